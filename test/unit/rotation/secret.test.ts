import { describe, expect, it } from 'vitest';
import { InvalidSecretError } from '../../../shared/rotation/errors';
import { parseAdminSecret } from '../../../shared/rotation/admin';
import { parseDatabaseSecret, withCredential } from '../../../shared/rotation/secret';

const contract = { engineValues: ['postgres', 'aurora-postgresql'], defaultPort: 5432 };
const awsTemplateSecret = {
  engine: 'postgres',
  host: 'db.example.internal',
  username: 'app',
  password: 'pw-1',
  dbname: 'orders',
  port: 5432,
  proxyEndpoint: 'proxy.example.internal', // an unknown key AWS's docs tell users to keep
};
const parse = (value: unknown) => parseDatabaseSecret(JSON.stringify(value), contract, 'The AWSCURRENT version');

describe('the secret JSON contract', () => {
  it("reads a secret made for AWS's single-user template", () => {
    expect(parse(awsTemplateSecret)).toMatchObject({ engine: 'postgres', host: 'db.example.internal', port: 5432, username: 'app', dbname: 'orders', tls: 'verify', strategy: 'single' });
  });

  it('writes back every unknown key unchanged, in order, with only the credential replaced', () => {
    const secret = parse(awsTemplateSecret);
    const out = JSON.parse(withCredential(secret, 'app', 'pw-2')) as Record<string, unknown>;
    expect(out).toEqual({ ...awsTemplateSecret, password: 'pw-2' });
    expect(Object.keys(out)).toEqual(Object.keys(awsTemplateSecret));
  });

  it('defaults the port, and accepts it as a string as the templates do', () => {
    expect(parse({ ...awsTemplateSecret, port: undefined }).port).toBe(5432);
    expect(parse({ ...awsTemplateSecret, port: '6543' }).port).toBe(6543);
  });

  it.each([
    [true, 'verify'],
    ['TRUE', 'verify'],
    [undefined, 'verify'],
    [false, 'plaintext'],
    ['false', 'plaintext'],
  ])('ssl %s means %s (no silent fall-back when absent)', (ssl, tls) => {
    expect(parse({ ...awsTemplateSecret, ssl }).tls).toBe(tls);
  });

  it('infers the strategy: masterarn means alternating users, usernames a pre-created pair', () => {
    expect(parse({ ...awsTemplateSecret, masterarn: 'arn:admin' }).strategy).toBe('alternating');
    expect(parse({ ...awsTemplateSecret, masterarn: 'arn:admin', usernames: ['app', 'app_b'] })).toMatchObject({ strategy: 'pair', usernames: ['app', 'app_b'] });
    expect(parse({ ...awsTemplateSecret, masterarn: 'arn:admin', rotationstrategy: 'single' }).strategy).toBe('single');
  });

  it.each([
    ['not JSON', '{"engine":', 'SecretString', /not valid JSON/],
    ['a JSON array', '[1,2]', 'SecretString', /JSON object, not an array/],
    ['a JSON string', '"text"', 'SecretString', /JSON object, not string/],
    ['no host', JSON.stringify({ ...awsTemplateSecret, host: undefined }), 'host', /lacks "host"/],
    ['no username', JSON.stringify({ ...awsTemplateSecret, username: undefined }), 'username', /lacks "username"/],
    ['no password', JSON.stringify({ ...awsTemplateSecret, password: undefined }), 'password', /lacks "password"/],
    ['a 20,000-character username', JSON.stringify({ ...awsTemplateSecret, username: 'u'.repeat(20_000) }), 'username', /of 20000 characters; database user names are at most 128/],
    ['a numeric password', JSON.stringify({ ...awsTemplateSecret, password: 12345 }), 'password', /invalid "password"/],
    ['another engine', JSON.stringify({ ...awsTemplateSecret, engine: 'mysql' }), 'engine', /rotates postgres or aurora-postgresql/],
    ['no engine', JSON.stringify({ ...awsTemplateSecret, engine: undefined }), 'engine', /lacks "engine"/],
    ['port 0', JSON.stringify({ ...awsTemplateSecret, port: 0 }), 'port', /1 to 65535/],
    ['port 70000', JSON.stringify({ ...awsTemplateSecret, port: 70000 }), 'port', /1 to 65535/],
    ['port "54a"', JSON.stringify({ ...awsTemplateSecret, port: '54a' }), 'port', /1 to 65535/],
    ['ssl "maybe"', JSON.stringify({ ...awsTemplateSecret, ssl: 'maybe' }), 'ssl', /true or false/],
    ['a host with spaces', JSON.stringify({ ...awsTemplateSecret, host: 'db; DROP' }), 'host', /without spaces/],
    ['pair without masterarn', JSON.stringify({ ...awsTemplateSecret, usernames: ['app', 'b'] }), 'masterarn', /lacks "masterarn"/],
    ['pair with one user', JSON.stringify({ ...awsTemplateSecret, masterarn: 'a', usernames: ['app'] }), 'usernames', /two distinct/],
    ['pair not naming the user', JSON.stringify({ ...awsTemplateSecret, masterarn: 'a', usernames: ['x', 'y'] }), 'username', /not one of its "usernames"/],
    ['an unknown strategy', JSON.stringify({ ...awsTemplateSecret, rotationstrategy: 'yolo' }), 'rotationstrategy', /"single", "alternating" or "pair"/],
  ])('refuses %s, naming the field and never the password', (_what, value, field, message) => {
    let error: unknown;
    try {
      parseDatabaseSecret(value, contract, 'The AWSCURRENT version');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidSecretError);
    expect((error as InvalidSecretError).field).toBe(field);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('pw-1');
  });

  it('reads an admin secret with only username and password (RDS-managed) or with host and port', () => {
    expect(parseAdminSecret('{"username":"master","password":"m"}', 'admin')).toEqual({ username: 'master', password: 'm', tls: 'verify' });
    expect(parseAdminSecret('{"username":"master","password":"m","host":"h","port":"5433"}', 'admin')).toMatchObject({ host: 'h', port: 5433 });
    expect(() => parseAdminSecret('{"username":"master"}', 'The admin secret')).toThrow(/lacks "password"/);
  });
});

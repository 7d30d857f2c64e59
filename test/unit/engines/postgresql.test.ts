// The PostgreSQL engine's pure parts: SQL text, name checks, setting copies, error classification.
// The verbs themselves run against a real server in test/integration/engines/postgresql.test.ts.

import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../shared/engines/errors';
import { privilegeAdvice } from '../../../shared/engines/postgresql/alternate';
import { clientConfig, toEngineError, type FailureContext } from '../../../shared/engines/postgresql/connect';
import { scramSha256Verifier } from '../../../shared/engines/postgresql/scram';
import {
  alterRolePasswordSql,
  assertRoleName,
  desiredAlternateAttributes,
  quoteIdentifier,
  quoteLiteral,
  roleOptionsSql,
  setRoleSettingSql,
  splitSettingList,
  verifierLiteral,
  type RoleAttributes,
} from '../../../shared/engines/postgresql/sql';
import type { ConnectionTarget } from '../../../shared/engines/types';
import { thrown } from '../../support/thrown';


const target: ConnectionTarget = {
  host: 'db.example.com',
  port: 5432,
  tls: { kind: 'verify' },
  connectTimeoutMs: 5_000,
};

describe('identifiers and literals', () => {
  it('double-quotes identifiers and doubles inner quotes', () => {
    expect(quoteIdentifier('app')).toBe('"app"');
    expect(quoteIdentifier('x"; DROP ROLE postgres; --')).toBe('"x""; DROP ROLE postgres; --"');
    expect(quoteIdentifier("it's \\ ünï")).toBe('"it\'s \\ ünï"');
  });

  it('escapes literals, with E-syntax when there is a backslash', () => {
    expect(quoteLiteral("o'clock")).toBe("'o''clock'");
    expect(quoteLiteral('a\\b')).toBe(" E'a\\\\b'");
  });

  it('refuses NUL characters, which would truncate the statement', () => {
    expect(thrown(EngineError, () => quoteIdentifier('a\0b')).code).toBe('invalid');
    expect(thrown(EngineError, () => quoteLiteral('a\0b')).code).toBe('invalid');
  });

  it('only embeds values that are SCRAM verifiers', () => {
    const verifier = scramSha256Verifier('some-password');
    expect(verifierLiteral(verifier)).toBe(`'${verifier}'`);
    expect(alterRolePasswordSql('a"b', verifier)).toBe(`ALTER ROLE "a""b" PASSWORD '${verifier}'`);
    const error = thrown(EngineError, () => verifierLiteral("plain'; DROP ROLE x; --"));
    expect(error.code).toBe('invalid');
    expect(error.message).not.toContain('plain');
  });
});

describe('assertRoleName', () => {
  it('accepts up to 63 UTF-8 bytes and refuses longer names, which the server would truncate', () => {
    expect(() => assertRoleName('a'.repeat(63), 'username')).not.toThrow();
    expect(() => assertRoleName(`${'é'.repeat(31)}a`, 'username')).not.toThrow(); // 63 bytes
    expect(thrown(EngineError, () => assertRoleName('a'.repeat(64), 'username')).code).toBe('invalid');
    expect(thrown(EngineError, () => assertRoleName('é'.repeat(32), 'username')).message).toMatch(/64 bytes/);
  });

  it('refuses empty names and NUL', () => {
    expect(thrown(EngineError, () => assertRoleName('', 'username')).code).toBe('invalid');
    expect(thrown(EngineError, () => assertRoleName('a\0', 'username')).code).toBe('invalid');
  });
});

describe('alternate user attributes', () => {
  const base: RoleAttributes = {
    rolsuper: false,
    rolinherit: true,
    rolcreaterole: true,
    rolcreatedb: true,
    rolcanlogin: true,
    rolreplication: false,
    rolbypassrls: false,
    rolconnlimit: 7,
  };

  it('is a plain inheriting login with the base connection limit', () => {
    expect(desiredAlternateAttributes(base)).toEqual({
      rolsuper: false,
      rolinherit: true,
      rolcreaterole: false,
      rolcreatedb: false,
      rolcanlogin: true,
      rolreplication: false,
      rolbypassrls: false,
      rolconnlimit: 7,
    });
  });

  it('spells out only what differs from CREATE ROLE defaults or from the existing role', () => {
    const desired = desiredAlternateAttributes(base);
    expect(roleOptionsSql(desired, undefined)).toEqual(['LOGIN', 'CONNECTION LIMIT 7']);
    expect(roleOptionsSql(desired, desired)).toEqual([]);
    expect(roleOptionsSql(desired, { ...desired, rolinherit: false, rolcreatedb: true, rolconnlimit: -1 })).toEqual([
      'INHERIT',
      'NOCREATEDB',
      'CONNECTION LIMIT 7',
    ]);
    expect(roleOptionsSql(desired, { ...desired, rolsuper: true, rolcanlogin: false })).toEqual(['NOSUPERUSER', 'LOGIN']);
  });
});

describe('copying role settings', () => {
  it('splits stored lists the way the server quoted them', () => {
    expect(splitSettingList('app, public')).toEqual(['app', 'public']);
    expect(splitSettingList('"my ""schema""", public, "$user"')).toEqual(['my "schema"', 'public', '$user']);
    expect(splitSettingList('""')).toEqual(['']);
    expect(splitSettingList('  a ,b  ')).toEqual(['a', 'b']);
    expect(splitSettingList('')).toEqual([]);
    for (const bad of ['"open', 'a,,b', 'a b', 'a,']) {
      expect(thrown(EngineError, () => splitSettingList(bad)).code, bad).toBe('query');
    }
  });

  it('sets list settings element by element and others as one literal', () => {
    expect(setRoleSettingSql('c"l', { database: null, name: 'search_path', value: '"my schema", public' })).toBe(
      `ALTER ROLE "c""l" SET "search_path" TO 'my schema', 'public'`,
    );
    expect(setRoleSettingSql('clone', { database: 'app db', name: 'work_mem', value: '8MB' })).toBe(
      `ALTER ROLE "clone" IN DATABASE "app db" SET "work_mem" TO '8MB'`,
    );
    expect(setRoleSettingSql('clone', { database: null, name: 'role', value: "b'a\\se" })).toBe(
      `ALTER ROLE "clone" SET "role" TO  E'b''a\\\\se'`,
    );
    expect(setRoleSettingSql('clone', { database: null, name: 'myext.opt', value: 'x' })).toBe(
      `ALTER ROLE "clone" SET "myext"."opt" TO 'x'`,
    );
    expect(setRoleSettingSql('clone', { database: null, name: 'DateStyle', value: 'ISO, MDY' })).toBe(
      `ALTER ROLE "clone" SET "DateStyle" TO 'ISO, MDY'`,
    );
  });
});

describe('privilegeAdvice', () => {
  const names = { admin: 'rds admin', base: 'app"x', alternate: 'app"x_clone' };

  it('on PostgreSQL 16+, names the ADMIN OPTION grant on the base role for the membership grant', () => {
    const advice = privilegeAdvice('grant', 160_004, names);
    expect(advice).toContain('PostgreSQL 16');
    expect(advice).toContain('GRANT "app""x" TO "rds admin" WITH ADMIN OPTION;');
  });

  it('on PostgreSQL 16+, names the ADMIN OPTION grant on an alternate role created by someone else', () => {
    expect(privilegeAdvice('alter', 170_000, names)).toContain('GRANT "app""x_clone" TO "rds admin" WITH ADMIN OPTION;');
  });

  it('on PostgreSQL 15, points at CREATEROLE and superuser roles', () => {
    expect(privilegeAdvice('grant', 150_018, names)).toMatch(/CREATEROLE.*superuser/);
    expect(privilegeAdvice('create', 150_018, names)).toContain('ALTER ROLE "rds admin" CREATEROLE;');
    expect(privilegeAdvice('settings', 150_018, names, 'log_statement')).toContain(
      'GRANT SET ON PARAMETER log_statement TO "rds admin";',
    );
    expect(privilegeAdvice('settings', 140_000, names, 'log_statement')).toContain('Only a superuser');
  });
});

describe('clientConfig', () => {
  it('sets every connection parameter explicitly, with timeouts and verified TLS', () => {
    const config = clientConfig(target, { username: 'app', password: 'pw' });
    expect(config).toMatchObject({
      host: 'db.example.com',
      port: 5432,
      database: 'postgres',
      user: 'app',
      password: 'pw',
      ssl: { rejectUnauthorized: true, servername: 'db.example.com' },
      connectionTimeoutMillis: 5_000,
    });
    expect(config.statement_timeout).toBeGreaterThan(0);
    expect(config.lock_timeout).toBeGreaterThan(0);
    expect(config.query_timeout).toBeGreaterThan(0);
    expect(clientConfig({ ...target, tls: { kind: 'plaintext' } }, { username: 'app', password: 'pw' }).ssl).toBe(false);
  });

  it('refuses targets and credentials that would make pg fall back to defaults or environment', () => {
    const who = { username: 'app', password: 'pw' };
    expect(thrown(EngineError, () => clientConfig({ ...target, connectTimeoutMs: 0 }, who)).code).toBe('invalid');
    expect(thrown(EngineError, () => clientConfig({ ...target, port: 70_000 }, who)).code).toBe('invalid');
    expect(thrown(EngineError, () => clientConfig({ ...target, host: '' }, who)).code).toBe('invalid');
    expect(thrown(EngineError, () => clientConfig({ ...target, host: '/var/run/postgresql' }, who)).code).toBe('invalid');
    expect(thrown(EngineError, () => clientConfig(target, { username: 'app', password: '' })).code).toBe('invalid');
    expect(thrown(EngineError, () => clientConfig(target, { username: '', password: 'pw' })).code).toBe('invalid');
  });
});

describe('toEngineError', () => {
  const context: FailureContext = { verb: 'setOwnPassword', target, user: 'app', secrets: ['s3cret-pw'] };

  function databaseError(code: string, message: string): pg.DatabaseError {
    const error = new pg.DatabaseError(message, message.length, 'error');
    error.code = code;
    return error;
  }

  function nodeError(code: string, message: string): Error {
    return Object.assign(new Error(message), { code });
  }

  it.each([
    [databaseError('28P01', 'password authentication failed for user "app"'), 'auth'],
    [databaseError('28000', 'role "app" is not permitted to log in'), 'auth'],
    [databaseError('42501', 'permission denied to alter role'), 'privilege'],
    [databaseError('57014', 'canceling statement due to statement timeout'), 'timeout'],
    [databaseError('55P03', 'canceling statement due to lock timeout'), 'timeout'],
    [databaseError('53300', 'too many connections for role "app"'), 'unreachable'],
    [databaseError('57P03', 'the database system is starting up'), 'unreachable'],
    [databaseError('3D000', 'database "x" does not exist'), 'query'],
    [databaseError('42601', 'syntax error'), 'query'],
    [nodeError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:5432'), 'unreachable'],
    [nodeError('ENOTFOUND', 'getaddrinfo ENOTFOUND db.example.com'), 'unreachable'],
    [nodeError('ETIMEDOUT', 'connect ETIMEDOUT'), 'timeout'],
    [new Error('timeout expired'), 'timeout'],
    [new Error('Query read timeout'), 'timeout'],
    [new Error('Connection terminated unexpectedly'), 'unreachable'],
    [new Error('The server does not support SSL connections'), 'tls'],
    [nodeError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"), 'tls'],
    [nodeError('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'), 'tls'],
    [nodeError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'), 'tls'],
    [nodeError('CERT_HAS_EXPIRED', 'certificate has expired'), 'tls'],
    [nodeError('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'), 'tls'],
    [new Error('something else'), 'query'],
  ])('classifies %s as %s', (error, code) => {
    const engineError = toEngineError(error, context, 'connect');
    expect(engineError.code).toBe(code);
    expect(engineError.engine).toBe('postgresql');
    expect(engineError.message).toMatch(/^setOwnPassword: /);
  });

  it('keeps the SQLSTATE or driver code', () => {
    expect(toEngineError(databaseError('42501', 'denied'), context, 'query').sqlstate).toBe('42501');
    expect(toEngineError(nodeError('ECONNRESET', 'read ECONNRESET'), context, 'query').driverCode).toBe('ECONNRESET');
  });

  it('never lets a password through, whatever the driver said', () => {
    const leaky = [
      new Error('failed for postgres://app:s3cret-pw@db:5432/postgres'),
      databaseError('XX000', 'something about s3cret-pw'),
      nodeError('ECONNRESET', "while sending PASSWORD 'other-secret'"),
    ];
    for (const error of leaky) {
      const message = toEngineError(error, context, 'query').message;
      expect(message).not.toContain('s3cret-pw');
      expect(message).not.toContain('other-secret');
    }
    const inner = new EngineError('query', 'echo s3cret-pw', { engine: 'postgresql' });
    expect(toEngineError(inner, context, 'query').message).not.toContain('s3cret-pw');
  });
});

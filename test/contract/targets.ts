// The two implementations every contract test runs against, and the helpers the tests share.
//
// - sandbox: our local Secrets Manager emulator, started in-process once per test file.
// - moto:    the shared moto_server started by global-setup.ts (skipped when it is unavailable).
//
// Where moto matches the documented AWS behaviour, a test makes the same assertion on both. Where
// moto is known to differ, the test title names the deviation and the test asserts the AWS
// behaviour on the sandbox and moto's behaviour on moto, so a moto upgrade that changes is noticed.
//
// Deviation numbers 1–21 are those of /work/shared/reference/moto-deviations.md. These tests found
// more in moto 5.2.1 (numbered on from there):
//   5b  RotateSecret(RotateImmediately=false) answers with the current version's VersionId, not the new one.
//   14c ListSecretVersionIds sends NextToken "" instead of leaving it out.
//   18b GetRandomPassword(PasswordLength=0) gives InvalidParameterException, not ValidationException.
//   22  ResourceNotFoundException comes with HTTP 404; AWS uses 400 for every Secrets Manager error.
//   23  GetSecretValue with an unknown VersionStage: the generic "can't find the specified secret."
//       message instead of "...secret value for staging label: X".
//   24  PutSecretValue on a secret scheduled for deletion succeeds (AWS: InvalidRequestException).
//   25  CreateSecret reusing the name of a secret scheduled for deletion gives ResourceExistsException
//       (AWS: InvalidRequestException "...already scheduled for deletion.").
//   26  ListSecretVersionIds ignores IncludeDeprecated: unlabelled versions are always listed.
//   27  ListSecrets ignores SortOrder (always creation/insertion order).
//   28  Unknown operation, missing required parameter, ListSecretVersionIds of a missing secret:
//       HTTP 500 with an HTML page (the SDK throws SyntaxError).
//   29  A malformed JSON body is read as {} (AWS: SerializationException).
//   30  GetRandomPassword rejects PasswordLength 1–3 even with RequireEachIncludedType=false.
//   31  GetRandomPassword: ExcludeCharacters that empties a character class gives HTTP 500, even with
//       RequireEachIncludedType=false.
//   32  Several messages carry "An error occurred (X) when calling the Y operation:" and runs of
//       spaces (DeleteSecret window checks, GetRandomPassword, reads of deleted secrets).

import { randomUUID } from 'node:crypto';
import {
  ListSecretsCommand,
  SecretsManagerClient,
  type Filter,
  type SecretListEntry,
  type SortOrderType,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import './provided';

export type TargetName = 'sandbox' | 'moto';

export interface Target {
  name: TargetName;
  client: SecretsManagerClient;
  /** http://127.0.0.1:PORT */
  endpoint: string;
  region: string;
  accountId: string;
  close(): Promise<void>;
}

export const REGION = 'us-east-1';
/** moto puts every secret in this account. */
export const MOTO_ACCOUNT_ID = '123456789012';
/** A different account for the sandbox, to check that its accountId option reaches the ARNs. */
export const SANDBOX_ACCOUNT_ID = '111122223333';

const TARGET_NAMES: readonly TargetName[] = ['sandbox', 'moto'];

function makeClient(endpoint: string, region: string): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'AKIACONTRACTTEST0000', secretAccessKey: 'contract-test-secret-key' },
    // Never retry: a retried 500 would only slow the suite down and hide the first answer.
    maxAttempts: 1,
  });
}

export async function startTarget(name: TargetName): Promise<Target> {
  if (name === 'moto') {
    const endpoint = inject('motoEndpoint');
    if (endpoint === null) throw new Error('moto_server is not available (see the global setup warning)');
    const client = makeClient(endpoint, REGION);
    return {
      name,
      client,
      endpoint,
      region: REGION,
      accountId: MOTO_ACCOUNT_ID,
      close: async () => {
        client.destroy();
      },
    };
  }
  // Imported lazily so that a broken sandbox fails the sandbox tests, not the moto ones.
  const { startSandbox } = await import('../../local/secrets-manager');
  const sandbox = await startSandbox({ region: REGION, accountId: SANDBOX_ACCOUNT_ID });
  const client = makeClient(sandbox.endpoint, sandbox.region);
  return {
    name,
    client,
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    accountId: SANDBOX_ACCOUNT_ID,
    close: async () => {
      client.destroy();
      await sandbox.close();
    },
  };
}

/** What a test body sees: the target's name at once, the started target once beforeAll has run. */
export interface TargetContext {
  readonly name: TargetName;
  readonly isMoto: boolean;
  readonly target: Target;
  readonly client: SecretsManagerClient;
}

/**
 * Runs `fn` once per target inside `describe(<target name>)`, so every test title starts with the
 * target's name. The moto block is skipped (reported as skipped) when moto_server is unavailable.
 * `targets` narrows the run, e.g. to `['moto']` for checks that pin down moto-only behaviour.
 */
export function forEachTarget(
  fn: (t: TargetContext) => void,
  targets: readonly TargetName[] = TARGET_NAMES,
): void {
  const motoAvailable = inject('motoEndpoint') !== null;
  for (const name of targets) {
    const block = name === 'moto' && !motoAvailable ? describe.skip : describe;
    block(name, () => {
      let started: Target | undefined;
      const ctx: TargetContext = {
        name,
        isMoto: name === 'moto',
        get target(): Target {
          if (started === undefined) throw new Error(`target ${name} has not been started`);
          return started;
        },
        get client(): SecretsManagerClient {
          return ctx.target.client;
        },
      };
      beforeAll(async () => {
        started = await startTarget(name);
      });
      afterAll(async () => {
        await started?.close();
      });
      fn(ctx);
    });
  }
}

/**
 * A test of a behaviour where moto deviates from AWS: the title carries the deviation, the body
 * branches on `t.isMoto` (AWS behaviour on the sandbox, moto's recorded behaviour on moto).
 */
export function itDeviates(
  t: TargetContext,
  deviation: string,
  title: string,
  body: () => Promise<void>,
): void {
  it(`${title} [moto deviation ${deviation}]`, body);
}

/** A unique secret name (moto is shared by all test files, the sandbox by all tests of a file). */
export function uniqueName(label: string): string {
  return `contract/${label}-${randomUUID().slice(0, 8)}`;
}

/** A fresh ClientRequestToken (a UUID, 36 characters: within the 32–64 limit). */
export function token(): string {
  return randomUUID();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ServiceErrorShape {
  name: string;
  message: string;
  status: number | undefined;
}

function toErrorShape(err: unknown): ServiceErrorShape {
  if (!(err instanceof Error)) throw new Error(`expected an Error, got ${String(err)}`);
  const metadata: unknown = (err as { $metadata?: unknown }).$metadata;
  let status: number | undefined;
  if (typeof metadata === 'object' && metadata !== null) {
    const code: unknown = (metadata as { httpStatusCode?: unknown }).httpStatusCode;
    if (typeof code === 'number') status = code;
  }
  return { name: err.name, message: err.message, status };
}

export interface ExpectedError {
  name: string;
  status?: number;
  message?: string | RegExp;
}

/** Awaits `promise`, expects it to reject with an SDK service error of this shape, and returns it. */
export async function expectError(promise: Promise<unknown>, expected: ExpectedError): Promise<ServiceErrorShape> {
  let outcome: unknown;
  try {
    outcome = await promise;
  } catch (err) {
    const shape = toErrorShape(err);
    expect(shape.name, `error name (message: ${shape.message})`).toBe(expected.name);
    if (expected.status !== undefined) {
      expect(shape.status, `HTTP status of ${shape.name}`).toBe(expected.status);
    }
    if (typeof expected.message === 'string') expect(shape.message).toBe(expected.message);
    // moto wraps some lines of its messages with long runs of spaces; regexes see them collapsed.
    else if (expected.message !== undefined) expect(shape.message.replace(/\s+/g, ' ')).toMatch(expected.message);
    return shape;
  }
  throw new Error(`expected ${expected.name}, but the call succeeded: ${JSON.stringify(outcome)}`);
}

/** Rejects with whatever the call throws, whether or not it is a service error. */
export async function catchError(promise: Promise<unknown>): Promise<ServiceErrorShape> {
  let outcome: unknown;
  try {
    outcome = await promise;
  } catch (err) {
    return toErrorShape(err);
  }
  throw new Error(`expected the call to fail, but it succeeded: ${JSON.stringify(outcome)}`);
}

export interface ListAllOptions {
  filters?: Filter[];
  maxResults?: number;
  includePlannedDeletion?: boolean;
  sortOrder?: SortOrderType;
}

/**
 * Every ListSecrets page, following NextToken until it is absent (an empty page with a NextToken
 * is legal, so an empty page is never taken as the end).
 */
export async function listAllSecrets(
  client: SecretsManagerClient,
  options: ListAllOptions = {},
): Promise<{ entries: SecretListEntry[]; pages: number }> {
  const entries: SecretListEntry[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await client.send(
      new ListSecretsCommand({
        Filters: options.filters,
        MaxResults: options.maxResults,
        IncludePlannedDeletion: options.includePlannedDeletion,
        SortOrder: options.sortOrder,
        NextToken: nextToken,
      }),
    );
    pages += 1;
    if (pages > 1_000) throw new Error('ListSecrets pagination did not terminate');
    entries.push(...(page.SecretList ?? []));
    nextToken = page.NextToken === '' ? undefined : page.NextToken;
  } while (nextToken !== undefined);
  return { entries, pages };
}

/** The ARN AWS builds for a secret: arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>. */
export function arnPattern(t: Target, name: string): RegExp {
  const escaped = name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`^arn:aws:secretsmanager:${t.region}:${t.accountId}:secret:${escaped}-[A-Za-z0-9]{6}$`);
}

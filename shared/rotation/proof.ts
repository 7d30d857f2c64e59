// Proof that a pending value was written by this function's own createSecret.
//
// Whoever may write a secret (PutSecretValue) need not be able to read it. Without a proof, such a
// writer could plant an AWSPENDING value with a password of its choosing for the secret's user and
// have setSecret set it — turning write access into the user's password. createSecret therefore
// stores, beside the new credential, an HMAC over it keyed with the AWSCURRENT password, which a
// writer that cannot read the secret does not know; setSecret changes a password only to a value
// whose proof checks out. (A reader can read every version anyway.) The message binds the secret,
// the rotation token and every field that says where and as whom the password is set.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { DatabaseSecret } from './secret';

/** The key of the proof in the secret JSON (kept by every other reader as an unknown key). */
export const PROOF_FIELD = 'rotationproof';
const VERSION = 'v1';

type Proven = Pick<DatabaseSecret, 'engine' | 'host' | 'port' | 'dbname' | 'tls' | 'username' | 'password' | 'strategy'>;

function mac(currentPassword: string, arn: string, token: string, pending: Proven): string {
  const message = JSON.stringify([VERSION, arn, token, pending.engine, pending.host, pending.port, pending.dbname ?? null, pending.tls, pending.strategy, pending.username, pending.password]);
  return `${VERSION}.${createHmac('sha256', currentPassword).update(message).digest('base64url')}`;
}

/** The proof createSecret stores for `pending`, keyed with the AWSCURRENT password. */
export function pendingProof(currentPassword: string, arn: string, token: string, pending: Proven): string {
  return mac(currentPassword, arn, token, pending);
}

/** Whether `pending` carries the proof this function's createSecret would have written. */
export function hasValidProof(pending: DatabaseSecret, currentPassword: string, arn: string, token: string): boolean {
  const stored = pending.raw[PROOF_FIELD];
  if (typeof stored !== 'string') return false;
  const expected = Buffer.from(mac(currentPassword, arn, token, pending));
  const given = Buffer.from(stored);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

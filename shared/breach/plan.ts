import type { Strategy } from '../rotation/secret';
import type { BreachSecretInfo } from './secrets';

export type BreachAction = 'settle-pending' | 'rotate' | 'rotate-again' | 'other-accounts' | 'end-sessions' | 'verify';

export interface BreachPlan {
  actions: BreachAction[];
  /** Versions holding AWSPENDING without AWSCURRENT: a rotation in progress or stuck (waited for, then completed or stripped). */
  stuckVersions: string[];
  /** Why a step is left out (e.g. a service-managed secret has no host to verify against). */
  notes: string[];
}

/**
 * What the breach response does to one secret, decided from its metadata and the strategy of its
 * AWSCURRENT value (a pure function: dry run reports exactly this).
 * - single user: one rotation changes the leaked user's password.
 * - alternating users / pair: one rotation changes the OTHER user, and the leaked credential stays
 *   valid as AWSPREVIOUS; a second rotation changes the leaked user's password too, so both users
 *   end with passwords the attacker never saw.
 * - owned by a service (RDS-managed master secret): RotateSecret runs the managed rotation of the
 *   master password; without host in the value there is nothing to verify against here.
 * - engines with several accounts per user name (MySQL/MariaDB), with an admin: the other accounts
 *   of the rotated users that still hold a leaked password get the new one.
 */
export interface PlanOptions {
  endSessions: boolean;
  /** The engine has several accounts per user name (Engine.replaceLeakedPassword: MySQL/MariaDB). */
  accountsPerName?: boolean;
  /** The secret names an admin (`masterarn`): only an admin can see and change the other accounts. */
  hasAdmin?: boolean;
}

export function planBreach(meta: BreachSecretInfo, strategy: Strategy | 'managed', options: PlanOptions): BreachPlan {
  const stuckVersions = Object.entries(meta.versions)
    .filter(([, stages]) => stages.includes('AWSPENDING') && !stages.includes('AWSCURRENT'))
    .map(([id]) => id);
  const actions: BreachAction[] = [];
  const notes: string[] = [];
  if (stuckVersions.length > 0) actions.push('settle-pending');
  actions.push('rotate');
  if (strategy === 'alternating' || strategy === 'pair') actions.push('rotate-again');
  if (strategy === 'managed') {
    notes.push(`owned by ${meta.owningService ?? 'a service'}: managed rotation only; sessions and logins are not checked here`);
  } else {
    // Before ending sessions: an account left with the leaked password could open new ones.
    if (options.accountsPerName && options.hasAdmin) actions.push('other-accounts');
    else if (options.accountsPerName) notes.push('other accounts of the user name are not checked: a secret without "masterarn" has no admin that could see them');
    if (options.endSessions) actions.push('end-sessions');
    actions.push('verify');
  }
  return { actions, stuckVersions, notes };
}

/** Why a secret cannot be handled at all, or undefined when it can. */
export function refusal(meta: BreachSecretInfo): string | undefined {
  if (meta.deleted) return `Secret ${meta.arn} is scheduled for deletion: restore it first (RestoreSecret) if it is still in use.`;
  if (!meta.rotationLambdaArn && !meta.owningService) {
    return `Secret ${meta.arn} has no rotation function: attach one (RotateSecret with RotationLambdaARN) or change the password by hand.`;
  }
  return undefined;
}

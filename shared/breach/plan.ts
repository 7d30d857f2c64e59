import type { Strategy } from '../rotation/secret';
import type { BreachSecretInfo } from './secrets';

export type BreachAction = 'settle-pending' | 'rotate' | 'rotate-again' | 'end-sessions' | 'verify';

export interface BreachPlan {
  actions: BreachAction[];
  /** Versions holding AWSPENDING without AWSCURRENT: a rotation in progress or stuck. */
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
 */
export function planBreach(meta: BreachSecretInfo, strategy: Strategy | 'managed', options: { endSessions: boolean }): BreachPlan {
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

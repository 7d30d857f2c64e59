// The chaos run: N rotations across engines and strategies, each under faults drawn at random
// (seeded, so a run's fault plan is reproducible) from the fault matrix, with the invariants
// checked after every rotation (Rig.rotate) and the leak canary at the end.

import { STEPS, describeFault, type Fault, type Rig, type RigEngine, type Strategy, type Subject } from './rig';

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ChaosOptions {
  rotations: number;
  seed: number;
  engines: readonly RigEngine[];
  /** Subjects (secrets with their users) per engine and strategy, rotated again and again. */
  subjectsPerKind?: number;
  /** Chance a fault outlasts every attempt (left pending, then retryPendingRotation). */
  persistentRate?: number;
  /** Allow throttling past the SDK's retries (each costs 8–20 s of SDK back-off); rare either way. */
  exhaustThrottles?: boolean;
  onRotation?: (index: number, line: string) => void;
}

export interface ChaosSummary {
  seed: number;
  rotations: number;
  faultsPlanned: number;
  faultsInjected: number;
  /** Rotations where AWSCURRENT (or, for alternating users and pairs, AWSPREVIOUS) did not log in. */
  lockouts: number;
  /** Rotations still not complete after the faults were removed and the pending rotation retried. */
  incomplete: number;
  /** Every broken promise (lockouts and incomplete included). */
  violations: string[];
  retriedPending: number;
  completedDespiteFailure: number;
  /** Single-user rotations left pending between setSecret and finishSecret (inherent window; the pending password worked). */
  singleUserWindows: number;
  byFault: Record<string, number>;
  byKind: Record<string, number>;
  durationMs: number;
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** One fault drawn from the matrix. */
export function drawFault(random: () => number, options: Pick<ChaosOptions, 'persistentRate' | 'exhaustThrottles'> = {}): Fault {
  const r = random();
  const persistent = random() < (options.persistentRate ?? 0.1);
  const deliveries = persistent ? Infinity : random() < 0.2 ? 2 : 1;
  const step = pick(random, STEPS);
  const dbStep = pick(random, ['setSecret', 'setSecret', 'testSecret'] as const);
  const type = pick(random, ['sm-throttle', 'sm-5xx', 'sm-5xx', 'db-reset', 'db-reset', 'db-reset', 'db-timeout', 'db-down', 'crash-before', 'crash-after', 'twice', 'concurrent'] as const);
  if (r < 0.04) return { type: 'race' };
  switch (type) {
    case 'sm-throttle':
      // Throttling is absorbed by the SDK unless it exhausts its 5 attempts (slow: kept rare).
      return options.exhaustThrottles && random() < 0.1
        ? { type, step, calls: 5, operation: 'DescribeSecret', deliveries: 1 }
        : { type, step, calls: 1 + Math.floor(random() * 2), deliveries: 1 };
    case 'sm-5xx':
      return { type, step, calls: persistent ? 1000 : 1 + Math.floor(random() * 8), deliveries };
    case 'db-reset':
      return { type, step: dbStep, afterBytes: random() < 0.2 ? 0 : Math.floor(random() * 7000), deliveries };
    case 'db-timeout':
      // Each costs a connect timeout per connection: never persistent.
      return { type, step: dbStep, deliveries: 1 };
    case 'db-down':
      return { type, step: dbStep, deliveries };
    default:
      return { type, step, deliveries: type === 'twice' || type === 'concurrent' ? 1 : deliveries };
  }
}

export async function runChaos(rig: Rig, options: ChaosOptions): Promise<ChaosSummary> {
  const random = seededRandom(options.seed);
  const started = performance.now();
  const strategies: Strategy[] = ['single', 'alternating', 'pair'];
  const subjects: Subject[] = [];
  for (const engine of options.engines) {
    for (const strategy of strategies) {
      for (let i = 0; i < (options.subjectsPerKind ?? 2); i++) subjects.push(await rig.newSubject(engine, strategy));
    }
  }
  const summary: ChaosSummary = {
    seed: options.seed,
    rotations: 0,
    faultsPlanned: 0,
    faultsInjected: 0,
    lockouts: 0,
    incomplete: 0,
    violations: [],
    retriedPending: 0,
    completedDespiteFailure: 0,
    singleUserWindows: 0,
    byFault: {},
    byKind: {},
    durationMs: 0,
  };
  for (let i = 0; i < options.rotations; i++) {
    const subject = pick(random, subjects);
    const count = pick(random, [0, 1, 1, 1, 2, 2]);
    const faults = Array.from({ length: count }, () => drawFault(random, options));
    const report = await rig.rotate(subject, faults);
    summary.rotations++;
    summary.faultsPlanned += faults.length;
    summary.faultsInjected += report.faultsInjected;
    for (const f of faults) summary.byFault[f.type] = (summary.byFault[f.type] ?? 0) + 1;
    const kind = `${subject.engine}/${subject.strategy}`;
    summary.byKind[kind] = (summary.byKind[kind] ?? 0) + 1;
    if (report.violations.some((v) => v.startsWith('lockout:'))) summary.lockouts++;
    if (report.violations.some((v) => v.startsWith('incomplete:'))) summary.incomplete++;
    if (report.retriedPending) summary.retriedPending++;
    if (report.completedDespiteFailure) summary.completedDespiteFailure++;
    if (report.singleUserWindow) summary.singleUserWindows++;
    const plan = faults.map(describeFault).join(' + ') || 'no fault';
    for (const v of report.violations) summary.violations.push(`#${i + 1} ${kind} [${plan}]: ${v}`);
    options.onRotation?.(
      i,
      `#${i + 1} ${kind} ${plan} -> ${report.outcome}${report.retriedPending ? ' (retried pending)' : ''}${report.violations.length ? ` VIOLATIONS: ${report.violations.join('; ')}` : ''}`,
    );
  }
  summary.durationMs = Math.round(performance.now() - started);
  return summary;
}

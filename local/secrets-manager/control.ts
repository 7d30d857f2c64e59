import type { SandboxClock } from './clock';
import type { FaultInjector, FaultKind, FaultRule } from './faults';
import type { FunctionRegistry } from './functions';
import type { RotationOrchestrator } from './orchestrator';
import type { CallRecord } from './server';

export interface ControlResult {
  status: number;
  body: unknown;
}

/**
 * The sandbox's own HTTP routes under /_sandbox/, for tests and tools in another process:
 * move the clock, inject faults, register command functions, wait for rotations, read history.
 */
export class ControlPlane {
  constructor(
    private readonly parts: {
      clock: SandboxClock;
      faults: FaultInjector;
      functions: FunctionRegistry;
      rotations: RotationOrchestrator;
      calls: CallRecord[];
      info: () => Record<string, unknown>;
    },
  ) {}

  async handle(method: string, route: string, raw: string): Promise<ControlResult> {
    let body: Record<string, unknown> = {};
    if (raw.trim() !== '') {
      try {
        const parsed: unknown = JSON.parse(raw);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
      } catch {
        return bad('Body is not JSON');
      }
    }
    const { clock, faults, functions, rotations, calls } = this.parts;
    const key = `${method} ${route}`;
    switch (key) {
      case 'GET health':
        return ok(this.parts.info());
      case 'GET clock':
        return ok({ now: clock.now().toISOString() });
      case 'POST clock': {
        if (body['reset'] === true) clock.reset();
        // Frozen first, so that a date set in the same request is exact (not a millisecond later).
        if (body['freeze'] === true) clock.freeze();
        if (typeof body['set'] === 'string') clock.set(body['set']);
        if (typeof body['advanceMs'] === 'number') clock.advance(body['advanceMs']);
        if (typeof body['advanceDays'] === 'number') clock.advanceDays(body['advanceDays']);
        if (body['freeze'] === false) clock.unfreeze();
        return ok({ now: clock.now().toISOString() });
      }
      case 'POST faults': {
        const rule = parseFaultRule(body);
        if (typeof rule === 'string') return bad(rule);
        try {
          return ok({ id: faults.add(rule) });
        } catch (err) {
          return bad((err as Error).message);
        }
      }
      case 'DELETE faults':
        faults.clear();
        return ok({});
      case 'POST functions': {
        const { arn, command, args, env, timeoutMs } = body;
        if (typeof arn !== 'string' || typeof command !== 'string') return bad('Give arn and command');
        const argList = Array.isArray(args) ? args.map(String) : [];
        const envMap = typeof env === 'object' && env !== null ? Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) : {};
        try {
          functions.register(arn, { command, args: argList, env: envMap }, typeof timeoutMs === 'number' ? { timeoutMs } : {});
        } catch (err) {
          return bad((err as Error).message);
        }
        return ok({ arn });
      }
      case 'POST settle':
        await rotations.settle();
        return ok({});
      case 'POST run-due':
        return ok({ outcomes: await rotations.runDue() });
      case 'GET events':
        return ok({ events: rotations.events });
      case 'GET invocations':
        return ok({ invocations: rotations.invocations.map(({ event, ...rest }) => ({ ...rest, step: event.Step, token: event.ClientRequestToken })) });
      case 'GET calls':
        return ok({ calls });
      default:
        return { status: 404, body: { message: `No sandbox route ${key}` } };
    }
  }
}

const ok = (body: unknown): ControlResult => ({ status: 200, body });
const bad = (message: string): ControlResult => ({ status: 400, body: { message } });

const FAULT_KINDS: readonly FaultKind[] = ['throttle', 'server-error', 'latency'];

function parseFaultRule(body: Record<string, unknown>): FaultRule | string {
  const { operation, kind, times, after, probability, delayMs, perSecond, burst } = body;
  const operations = Array.isArray(operation) && operation.length > 0 && operation.every((o) => typeof o === 'string') ? (operation as string[]) : undefined;
  if (typeof operation !== 'string' && !operations) return 'operation must be a string (an operation name or *) or a list of operation names';
  if (typeof kind !== 'string' || !FAULT_KINDS.includes(kind as FaultKind)) return `kind must be one of ${FAULT_KINDS.join(', ')}`;
  const numbers = { times, after, probability, delayMs, perSecond, burst };
  for (const [name, value] of Object.entries(numbers)) {
    if (value !== undefined && typeof value !== 'number') return `${name} must be a number`;
  }
  return {
    operation: operations ?? (operation as string),
    kind: kind as FaultKind,
    ...(typeof times === 'number' ? { times } : {}),
    ...(typeof after === 'number' ? { after } : {}),
    ...(typeof probability === 'number' ? { probability } : {}),
    ...(typeof delayMs === 'number' ? { delayMs } : {}),
    ...(typeof perSecond === 'number' ? { perSecond } : {}),
    ...(typeof burst === 'number' ? { burst } : {}),
  };
}

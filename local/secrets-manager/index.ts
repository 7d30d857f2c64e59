import type { Server } from 'node:http';
import { SandboxClock } from './clock';
import { ControlPlane } from './control';
import { FaultInjector } from './faults';
import { FunctionRegistry } from './functions';
import { RotationOrchestrator, type RotationOptions, type RotationOutcome } from './orchestrator';
import { createSandboxServer, listen, type CallRecord } from './server';
import { seedSecrets, type SeedSecret } from './seed';
import { SecretStore } from './store';

export { SandboxClock } from './clock';
export type { FaultRule, FaultKind } from './faults';
export type { RotationEvent, RotationStep, RotationFunction, CommandFunction, InProcessFunction } from './functions';
export type { RotationEventRecord, InvocationRecord, RotationOutcome } from './orchestrator';
export type { CallRecord } from './server';
export type { SeedSecret, SeedVersion } from './seed';

export interface SandboxOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  region?: string;
  accountId?: string;
  rotation?: Partial<RotationOptions>;
}

export interface Sandbox {
  /** Base URL for `AWS_ENDPOINT_URL_SECRETS_MANAGER` or a client's `endpoint`. */
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
  readonly clock: SandboxClock;
  readonly faults: FaultInjector;
  readonly functions: FunctionRegistry;
  readonly rotations: RotationOrchestrator;
  /** Every API call received, in order. */
  readonly calls: CallRecord[];
  /** Environment that points an unmodified AWS SDK (in this process or a child) at the sandbox. */
  env(): Record<string, string>;
  /** Wait until no rotation is running. */
  settle(): Promise<void>;
  /** Start rotations that are due by the sandbox clock and reattempt pending ones. */
  runDueRotations(): Promise<RotationOutcome[]>;
  /** Reattempt the rotation left pending on a secret, with the same token. */
  retryPendingRotation(secretId: string): Promise<RotationOutcome>;
  /** Add secrets directly to the store, with state the API cannot create (see seed.ts); returns their ARNs. */
  seed(secrets: readonly SeedSecret[]): string[];
  close(): Promise<void>;
}

const DEFAULT_ROTATION: RotationOptions = { maxAttempts: 3, retryDelayMs: 50, mode: 'async' };

/** Start a local Secrets Manager endpoint in this process. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const clock = new SandboxClock();
  const store = new SecretStore(region, accountId, clock);
  const faults = new FaultInjector();
  const functions = new FunctionRegistry();
  const rotations = new RotationOrchestrator(store, clock, functions, { ...DEFAULT_ROTATION, ...options.rotation });
  const calls: CallRecord[] = [];
  let endpoint = '';
  const control = new ControlPlane({ clock, faults, functions, rotations, calls, info: () => ({ ok: true, endpoint, region, accountId }) });
  const server: Server = createSandboxServer({ context: { store, clock, rotations }, faults, control, calls });
  const port = await listen(server, host, options.port ?? 0);
  endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const env = (): Record<string, string> => ({
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: process.env['AWS_ACCESS_KEY_ID'] ?? 'AKIASANDBOX000000000',
    AWS_SECRET_ACCESS_KEY: process.env['AWS_SECRET_ACCESS_KEY'] ?? 'sandbox',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  functions.commandEnv = env();

  return {
    endpoint,
    region,
    accountId,
    clock,
    faults,
    functions,
    rotations,
    calls,
    env,
    settle: () => rotations.settle(),
    runDueRotations: () => rotations.runDue(),
    retryPendingRotation: (secretId: string) => rotations.retryPending(store.get(secretId)),
    seed: (secrets: readonly SeedSecret[]) => seedSecrets(store, clock, secrets),
    async close() {
      await rotations.settle();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

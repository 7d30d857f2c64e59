import { spawn } from 'node:child_process';

export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';

/** The event Secrets Manager sends a rotation function, field for field. */
export interface RotationEvent {
  Step: RotationStep;
  SecretId: string;
  ClientRequestToken: string;
  RotationToken: string;
}

/** A handler in this process, e.g. the real Lambda handler imported by a test. */
export type InProcessFunction = (event: RotationEvent) => unknown;

/**
 * A command run once per invocation (e.g. `serverless invoke local`). The event arrives as JSON
 * on stdin, and in place of any `{event}` argument; exit status 0 means the step succeeded.
 */
export interface CommandFunction {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
}

export type RotationFunction = InProcessFunction | CommandFunction;

export interface RegisteredFunction {
  fn: RotationFunction;
  /** Like a Lambda's timeout: an invocation running longer counts as failed. */
  timeoutMs: number;
}

export class InvocationError extends Error {
  override name = 'InvocationError';
}

const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/;

export const isLambdaArn = (value: string): boolean => LAMBDA_ARN.test(value);

/** Which rotation function answers for which Lambda ARN. */
export class FunctionRegistry {
  private readonly functions = new Map<string, RegisteredFunction>();

  /** Environment handed to command functions so they reach this sandbox. */
  commandEnv: Record<string, string> = {};

  register(arn: string, fn: RotationFunction, { timeoutMs = 30_000 } = {}): void {
    if (!isLambdaArn(arn)) throw new Error(`Not a Lambda function ARN: ${arn} (expected arn:aws:lambda:REGION:ACCOUNT:function:NAME)`);
    this.functions.set(arn, { fn, timeoutMs });
  }

  unregister(arn: string): void {
    this.functions.delete(arn);
  }

  has(arn: string): boolean {
    return this.functions.has(arn);
  }

  arns(): string[] {
    return [...this.functions.keys()];
  }

  async invoke(arn: string, event: RotationEvent): Promise<void> {
    const registered = this.functions.get(arn);
    if (!registered) throw new InvocationError(`No function is registered for ${arn}`);
    const { fn, timeoutMs } = registered;
    const run = typeof fn === 'function' ? Promise.resolve().then(() => fn(event)) : runCommand(fn, event, this.commandEnv, timeoutMs);
    await withTimeout(run, timeoutMs, arn);
  }
}

async function withTimeout(work: Promise<unknown>, timeoutMs: number, arn: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new InvocationError(`${arn} timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function runCommand(fn: CommandFunction, event: RotationEvent, sandboxEnv: Record<string, string>, timeoutMs: number): Promise<void> {
  const json = JSON.stringify(event);
  const args = (fn.args ?? []).map((a) => (a === '{event}' ? json : a));
  return new Promise((resolve, reject) => {
    const child = spawn(fn.command, args, {
      cwd: fn.cwd,
      env: { ...process.env, ...sandboxEnv, ...fn.env },
      stdio: ['pipe', 'ignore', 'pipe'],
      timeout: timeoutMs, // kills the command when the invocation times out
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.on('error', (err) => reject(new InvocationError(`Could not run ${fn.command}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new InvocationError(`${fn.command} exited with ${signal ?? code}: ${stderr.trim().split('\n').slice(-5).join('\n')}`));
    });
    child.stdin.end(json);
  });
}

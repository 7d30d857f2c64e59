/**
 * Run the local Secrets Manager endpoint on its own, for `serverless invoke local` and for users:
 *
 *   npm run sandbox -- --port 4566 \
 *     --function arn:aws:lambda:us-east-1:123456789012:function:rotate-postgresql='node dist/rotate.js'
 *
 * A --function value is a Lambda ARN, `=`, and a command line (split on spaces) run once per
 * rotation step with the event as JSON on stdin.
 */
import { parseArgs } from 'node:util';
import { startSandbox } from './index';

const USAGE = `usage: sandbox [--host 127.0.0.1] [--port 0] [--region us-east-1] [--account 123456789012]
               [--function LAMBDA_ARN=COMMAND ...] [--sync] [--attempts 3]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      region: { type: 'string', default: 'us-east-1' },
      account: { type: 'string', default: '123456789012' },
      function: { type: 'string', multiple: true, default: [] },
      sync: { type: 'boolean', default: false },
      attempts: { type: 'string', default: '3' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  const attempts = Number(values.attempts);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0–65535, got ${values.port}`);
  if (!Number.isInteger(attempts) || attempts < 1) throw new Error(`--attempts must be a positive integer, got ${values.attempts}`);

  const sandbox = await startSandbox({
    host: values.host,
    port,
    region: values.region,
    accountId: values.account,
    rotation: { mode: values.sync ? 'sync' : 'async', maxAttempts: attempts },
  });
  for (const spec of values.function) {
    const at = spec.indexOf('=');
    if (at < 0) throw new Error(`--function takes LAMBDA_ARN=COMMAND, got ${spec}`);
    const [command, ...args] = spec.slice(at + 1).trim().split(/\s+/);
    if (!command) throw new Error(`--function ${spec.slice(0, at)} has no command`);
    sandbox.functions.register(spec.slice(0, at), { command, args });
  }
  console.log(`Secrets Manager sandbox listening on ${sandbox.endpoint} (region ${sandbox.region}, account ${sandbox.accountId})`);
  console.log(`  export AWS_ENDPOINT_URL_SECRETS_MANAGER=${sandbox.endpoint}`);
  console.log(`  control routes: ${sandbox.endpoint}/_sandbox/{health,clock,faults,functions,settle,run-due,events,invocations,calls}`);
  const stop = (): void => {
    void sandbox.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  console.error(USAGE);
  process.exit(2);
});

// The reference rotation function as a command: the event as JSON on stdin, the sandbox's
// endpoint from AWS_ENDPOINT_URL_SECRETS_MANAGER, as a command function receives them.
import type { RotationEvent } from '../../local/secrets-manager';
import { referenceRotation } from './reference-rotation';

async function main(): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  const event = JSON.parse(input) as RotationEvent;
  if (process.env['FAIL_STEP'] === event.Step) throw new Error(`failing ${event.Step} as asked`);
  const endpoint = process.env['AWS_ENDPOINT_URL_SECRETS_MANAGER'];
  if (!endpoint) throw new Error('AWS_ENDPOINT_URL_SECRETS_MANAGER is not set');
  await referenceRotation(endpoint)(event);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

/**
 * `serverless invoke local` builds one function's bundle with serverless-esbuild and runs it in
 * process. A malformed rotation event must fail fast (exit 1) with the handler's own message,
 * not hang: the run is killed at 60 s, which turns the known load-error hang into a failure.
 */
import { describe, expect, it } from 'vitest';
import { runServerless } from './package';

describe('serverless invoke local', () => {
  it('rejects a malformed rotation event with a clear error and a non-zero exit', async () => {
    const event = { Step: 'rotateEverything', SecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf', ClientRequestToken: 'token-1' };
    const run = await runServerless(['invoke', 'local', '--function', 'rotatePostgresql', '--data', JSON.stringify(event)], 60_000);
    expect(run.signal, `killed after ${Math.round(run.ms)} ms (hang?)\n${run.stdout}\n${run.stderr}`).toBeNull();
    expect(run.code).toBe(1);
    const output = run.stdout + run.stderr;
    // The message appears JSON-escaped (the invoke result and the Powertools log line).
    expect(output).toMatch(/Unknown rotation step \\?"rotateEverything\\?": expected createSecret/);
    expect(output).toContain('InvalidEventError');
  }, 90_000);
});

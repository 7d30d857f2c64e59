import type { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * The one retry policy of every AWS client the product builds. Adaptive: on ThrottlingException
 * (rotation storms, ListSecrets' 100 calls/s, Security Hub's 10 imports/s) the SDK backs off and
 * rate-limits the client's following calls; 5 attempts keep a failing call well inside a rotation
 * step's Lambda timeout, and Secrets Manager retries the whole rotation anyway.
 */
export const RETRY_POLICY = { retryMode: 'adaptive', maxAttempts: 5 } as const;

export interface ClientOptions {
  /** X-Ray: every call becomes a subsegment. */
  tracer?: Tracer | undefined;
  /** Another endpoint (the sandbox, a VPC endpoint); otherwise the SDK resolves it, AWS_ENDPOINT_URL_* included. */
  endpoint?: string | undefined;
  region?: string | undefined;
}

type ClientConstructor<C> = new (config: { retryMode?: string; maxAttempts?: number; endpoint?: string; region?: string }) => C;

/** An AWS SDK v3 client with the product's retry policy, traced when a tracer is given. Build it once per container. */
export function createClient<C extends object>(Client: ClientConstructor<C>, { tracer, endpoint, region }: ClientOptions = {}): C {
  const client = new Client({ ...RETRY_POLICY, ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}) });
  return tracer ? tracer.captureAWSv3Client(client) : client;
}

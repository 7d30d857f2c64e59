// Who asked for a breach response. Only an identity the runner established itself is the
// requester: the operator's own AWS identity from STS GetCallerIdentity (the CLI with the
// operator's credentials). A direct Lambda invoke hands the function no caller identity, and the
// sandbox has no STS: there the requester is "unverified", with where to look instead. Whatever
// the request itself says about who asked is a claim (`claimedBy`) and is reported as one.

/** The requester as the runner established it. */
export type Requester =
  | { verified: true; arn: string; account: string; via: 'sts:GetCallerIdentity' }
  | { verified: false; why: string };

export const unverifiedRequester = (why: string): Requester => ({ verified: false, why });

/** For audit lines: the verified ARN, or "unverified (why)". Never the request's own text. */
export function requesterLabel(requester: Requester): string {
  return requester.verified ? requester.arn : `unverified (${requester.why})`;
}

/** A GetCallerIdentity answer, checked at the edge: an answer without an ARN verifies nobody. */
export function fromCallerIdentity(identity: { Arn?: string | undefined; Account?: string | undefined }): Requester {
  const arn = identity.Arn;
  if (typeof arn !== 'string' || !/^arn:aws[a-z-]*:(sts|iam)::\d{12}:/.test(arn)) {
    return unverifiedRequester(`STS GetCallerIdentity returned no ARN (${JSON.stringify(arn ?? null).slice(0, 80)})`);
  }
  return { verified: true, arn, account: identity.Account ?? arn.split(':')[4]!, via: 'sts:GetCallerIdentity' };
}

/**
 * The operator running the breach with their own credentials (CLI). Against a custom Secrets
 * Manager endpoint (the sandbox) an STS identity would not be the one that endpoint saw, and there
 * is no STS there, so nobody is verified and STS is not asked. When STS fails, the breach still
 * runs (it is urgent) and the requester is unverified with the error.
 */
export async function operatorRequester(options: {
  /** The Secrets Manager endpoint when it is not AWS's (--endpoint, AWS_ENDPOINT_URL_SECRETS_MANAGER). */
  endpoint?: string | undefined;
  callerIdentity: () => Promise<{ Arn?: string | undefined; Account?: string | undefined }>;
}): Promise<Requester> {
  if (options.endpoint) return unverifiedRequester(`sandbox: Secrets Manager endpoint ${options.endpoint} is not AWS, and has no STS`);
  try {
    return fromCallerIdentity(await options.callerIdentity());
  } catch (err) {
    return unverifiedRequester(`STS GetCallerIdentity failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300));
  }
}

/**
 * A direct Lambda invoke (console, CLI, SDK, an EventBridge target): Lambda passes the function no
 * identity of its caller. CloudTrail's Lambda `Invoke` data event has it, when the trail logs
 * Lambda data events; its requestID is this invocation's request id.
 */
export function lambdaInvokeRequester(context?: { awsRequestId?: string; invokedFunctionArn?: string }): Requester {
  const where = context?.awsRequestId ? ` with requestID ${context.awsRequestId}` : '';
  const fn = context?.invokedFunctionArn ? ` on ${context.invokedFunctionArn}` : '';
  return unverifiedRequester(
    `direct Lambda invoke: Lambda passes no caller identity; the caller is in the CloudTrail Lambda data event "Invoke"${where}${fn} (the trail must log Lambda data events)`,
  );
}

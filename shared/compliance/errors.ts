/** Errors the compliance scan raises. Messages name what was wrong and where; none carries a secret value. */
export class ComplianceError extends Error {
  override name = 'ComplianceError';
}

/** The policy (environment or input document) is invalid; raised before any secret is evaluated. */
export class PolicyError extends ComplianceError {
  override name = 'PolicyError';
  constructor(readonly problems: string[]) {
    super(`Invalid compliance policy: ${problems.join('; ')}`);
  }
}

/** The function's input event is not one the compliance scan accepts. */
export class InvalidInputError extends ComplianceError {
  override name = 'InvalidInputError';
}

/** The breach request itself is wrong (bad selector, unknown option): nothing was changed. */
export class BreachInputError extends Error {
  override readonly name = 'BreachInputError';
}

/** One secret's breach procedure failed at `action`; the message says what to do. */
export class BreachStepError extends Error {
  override readonly name = 'BreachStepError';
  constructor(
    readonly action: string,
    message: string,
  ) {
    super(message);
  }
}

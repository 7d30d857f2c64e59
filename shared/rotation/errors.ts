/**
 * Errors the rotation core raises. Each names what was wrong and what to do; none carries a
 * secret value (messages are built from field names, ids and usernames only).
 */
export class RotationError extends Error {
  override name = 'RotationError';
}

/** The Lambda event is not a rotation event we can act on. */
export class InvalidEventError extends RotationError {
  override name = 'InvalidEventError';
}

/** A secret's value breaks the secret JSON contract; `field` names the culprit. */
export class InvalidSecretError extends RotationError {
  override name = 'InvalidSecretError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The secret's metadata says this rotation must not proceed (disabled, unknown token, not pending). */
export class PrecheckError extends RotationError {
  override name = 'PrecheckError';
}

/** A safety guard refused to act: e.g. pending and current name different hosts (confused deputy). */
export class GuardError extends RotationError {
  override name = 'GuardError';
}

/** No credential we hold logs in, so nothing can be changed. */
export class LoginError extends RotationError {
  override name = 'LoginError';
}

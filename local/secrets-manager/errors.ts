/**
 * An error the sandbox answers with, in AWS's JSON 1.1 shape: `code` becomes `__type` and the
 * `x-amzn-ErrorType` header, `status` the HTTP status. Messages follow AWS's wording where known.
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

export const notFound = (message = "Secrets Manager can't find the specified secret."): ApiError =>
  new ApiError('ResourceNotFoundException', message);

export const invalidParameter = (message: string): ApiError => new ApiError('InvalidParameterException', message);

export const invalidRequest = (message: string): ApiError => new ApiError('InvalidRequestException', message);

/** Model-level constraint failures, worded as AWS's validation layer words them. */
export const validation = (message: string): ApiError =>
  new ApiError('ValidationException', `1 validation error detected: ${message}`);

export const markedForDeletion = (): ApiError =>
  invalidRequest("You can't perform this operation on the secret because it was marked for deletion.");

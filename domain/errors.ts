/**
 * The small set of typed errors that cross boundaries. The API maps each to one
 * problem+json status once (api/problem.ts); activities map them to retryable or
 * non-retryable failures.
 */
export interface FieldError {
  /** JSON-pointer-like path of the offending field, e.g. `emails/0/address` or `email`. */
  field: string;
  message: string;
}

export class ValidationError extends Error {
  constructor(
    readonly errors: FieldError[],
    message = 'The request has invalid fields.',
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

export class NotFoundError extends Error {
  constructor(readonly resource: string, readonly id: string) {
    super(`${resource} ${id} does not exist.`);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends Error {
  constructor(message: string, readonly errors: FieldError[] = []) {
    super(message);
    this.name = 'ConflictError';
  }
}

export class ForbiddenError extends Error {
  constructor(message = 'Your API key does not allow this.') {
    super(message);
    this.name = 'ForbiddenError';
  }
}

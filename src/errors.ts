// The contract's errors: every failure a caller can see is an ApiError with a status, an
// ERROR_* code and one human sentence. Both doors render the same ApiError, each in its format.

export type ErrorCode =
  | 'ERROR_PARAMETER_INVALID'
  | 'ERROR_WEAK_PASSWORD'
  | 'ERROR_INVALID_LOGIN'
  | 'ERROR_PERMISSION_DENIED'
  | 'ERROR_APIUSER_NOT_FOUND'
  | 'ERROR_NOT_FOUND'
  | 'ERROR_OPERATION_NOT_ALLOWED'
  | 'ERROR_REQUEST_TOO_LARGE'
  | 'ERROR_CONTENT_TYPE_IS_NOT_SUPPORTED'
  | 'ERROR_APIUSAGE_EXCEEDED'
  | 'ERROR_UNKNOWN'
  | 'ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    /** One sentence for the caller, ending with a full stop; never internals. */
    readonly sentence: string,
    /** Extra response headers this error needs (Retry-After, WWW-Authenticate). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`${sentence} ${code}`);
    this.name = 'ApiError';
  }

  /** The contract's message: the sentence followed by the code. */
  get contractMessage(): string {
    return `${this.sentence} ${this.code}`;
  }

  /** Whether the caller is at fault (soap:Client) or the server (soap:Server). */
  get isClientFault(): boolean {
    return this.status < 500;
  }
}

/** A field of the input failed its check; the door names the field in its own vocabulary. */
export class ParameterError extends ApiError {
  constructor(
    /** Where the bad value sits, in the operation's input (REST names). */
    readonly path: ReadonlyArray<string | number>,
    /** What is wrong with it, as the end of a sentence: "must be at most 200 characters". */
    readonly problem: string,
    sentence = ParameterError.sentence(path.join('.'), problem),
  ) {
    super(400, 'ERROR_PARAMETER_INVALID', sentence);
  }

  /** The same error, its sentence naming the field as the given door calls it. */
  renamed(fieldName: (path: ReadonlyArray<string | number>) => string): ParameterError {
    return new ParameterError(this.path, this.problem, ParameterError.sentence(fieldName(this.path), this.problem));
  }

  private static sentence(field: string, problem: string): string {
    return field === '' ? `The request body ${problem}.` : `The field '${field}' ${problem}.`;
  }
}

export const INVALID_LOGIN_SENTENCE = 'Authorization has been denied for this request.';
export const BASIC_CHALLENGE = 'Basic realm="dualgate"';

export const errors = {
  invalidParameter: (sentence: string) => new ApiError(400, 'ERROR_PARAMETER_INVALID', sentence),
  weakPassword: (failedRules: readonly string[]) =>
    new ApiError(400, 'ERROR_WEAK_PASSWORD', `The password is too weak: it ${failedRules.join('; it ')}.`),
  invalidLogin: () => new ApiError(401, 'ERROR_INVALID_LOGIN', INVALID_LOGIN_SENTENCE, { 'WWW-Authenticate': BASIC_CHALLENGE }),
  permissionDenied: () =>
    new ApiError(
      403,
      'ERROR_PERMISSION_DENIED',
      "This operation needs the account owner or an API user with the 'Can manage account' permission.",
    ),
  apiUserNotFound: () => new ApiError(404, 'ERROR_APIUSER_NOT_FOUND', 'There is no API user with this id in your account.'),
  routeNotFound: (method: string, path: string) =>
    new ApiError(404, 'ERROR_NOT_FOUND', `There is no REST route ${method} ${path}.`),
  operationNotAllowed: (sentence: string) => new ApiError(409, 'ERROR_OPERATION_NOT_ALLOWED', sentence),
  requestTooLarge: (limitBytes: number) =>
    new ApiError(413, 'ERROR_REQUEST_TOO_LARGE', `The request body is larger than the limit of ${formatBytes(limitBytes)}.`),
  unsupportedContentType: (sentence: string) => new ApiError(415, 'ERROR_CONTENT_TYPE_IS_NOT_SUPPORTED', sentence),
  quotaExceeded: (limit: number, retryAfterSeconds: number) =>
    new ApiError(
      429,
      'ERROR_APIUSAGE_EXCEEDED',
      `Your account has used its ${limit} API calls for this hour; try again in ${retryAfterSeconds} seconds.`,
      { 'Retry-After': String(retryAfterSeconds) },
    ),
  unknown: (requestId: string) =>
    new ApiError(500, 'ERROR_UNKNOWN', `An unexpected error occurred; quote request id ${requestId} when reporting it.`),
  unavailable: (retryAfterSeconds = 5) => new UnavailableError(retryAfterSeconds),
  /** The same answer, for a call the database could not serve (counted apart: see metrics.ts). */
  databaseUnavailable: () => new DatabaseUnavailableError(),
};

/** The contract's 503: come back after `retryAfterSeconds`. */
class UnavailableError extends ApiError {
  constructor(retryAfterSeconds = 5) {
    super(503, 'ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE', 'The service is temporarily unavailable; try again shortly.', {
      'Retry-After': String(retryAfterSeconds),
    });
  }
}

/** The same 503, for a call the database could not serve: told apart from a shed compare's. */
export class DatabaseUnavailableError extends UnavailableError {}

function formatBytes(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}

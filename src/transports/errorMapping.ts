// Any thrown thing to the contract's error: ApiErrors pass, passport's refusal is the contract's
// one 401, body-parser's (and zlib's) errors and the router's become their contract codes, a
// lost database becomes 503, and everything else a 500 whose details go to the log under the
// request id and never to the caller.
import type { Logger } from 'pino';
import { ApiError, errors } from '../errors.js';
import { isDatabaseUnavailable } from '../db/connection.js';

interface HttpParserError {
  type?: unknown;
  limit?: unknown;
  status?: unknown;
  code?: unknown;
}

/** A body in another charset or encoding than the API takes (body-parser's refusal, or the REST door's of UTF-16 and UTF-32). */
export const bodyEncodingUnsupported = () => errors.unsupportedContentType('The request body must be UTF-8, optionally gzip, deflate or br compressed.');

export function toApiError(error: unknown, requestId: string, logger: Logger): ApiError {
  if (error instanceof ApiError) return error;
  // passport (failWithError) passes a refusal on as its AuthenticationError, which it does not export.
  if (error instanceof Error && error.name === 'AuthenticationError') return errors.invalidLogin();
  const parserError = (typeof error === 'object' && error !== null ? error : {}) as HttpParserError;
  switch (parserError.type) {
    case 'entity.too.large':
      return errors.requestTooLarge(typeof parserError.limit === 'number' ? parserError.limit : 0);
    case 'entity.parse.failed':
      return errors.invalidParameter('The request body is not valid JSON.');
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return bodyEncodingUnsupported();
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return errors.invalidParameter('The request body could not be read completely.');
  }
  // zlib's refusal of a body that says it is gzip, deflate (Z_*) or br (ERR__ERROR_*, Brotli's
  // decoder errors) and is not, passed on by body-parser.
  if (typeof parserError.code === 'string' && /^(Z_|ERR__ERROR_)/.test(parserError.code)) {
    return errors.invalidParameter('The request body is not valid gzip, deflate or br data.');
  }
  // The router's refusal to decode a path parameter that is not percent-encoded UTF-8
  // (/v2/api-users/%E0%A4%A), which it meets before any handler, authentication included.
  if (error instanceof URIError) return errors.invalidParameter('The request path is not valid percent-encoded UTF-8.');
  if (isDatabaseUnavailable(error)) {
    logger.warn({ requestId, err: error }, 'database unavailable');
    return errors.databaseUnavailable();
  }
  logger.error({ requestId, err: error }, 'unexpected error');
  return errors.unknown(requestId);
}

// Any failure of a SOAP call as the contract's ApiError: fields named as SOAP names them
// (`apiUser/Description`), and the error's own headers (Retry-After, WWW-Authenticate) set on
// the response, whichever of the two fault writers then answers (see faults.ts), and kept on
// the call's state for its log line.
import type { Response } from 'express';
import type { Logger } from 'pino';
import { ParameterError, type ApiError } from '../../errors.js';
import { callState } from '../callState.js';
import { toApiError } from '../errorMapping.js';
import { soapFieldName } from './xmlMapping.js';

export function soapApiError(error: unknown, res: Response, logger: Logger): ApiError {
  let apiError = toApiError(error, callState(res).requestId, logger);
  if (apiError instanceof ParameterError) apiError = apiError.renamed(soapFieldName);
  callState(res).answeredError = apiError;
  for (const [name, value] of Object.entries(apiError.headers)) res.setHeader(name, value);
  return apiError;
}

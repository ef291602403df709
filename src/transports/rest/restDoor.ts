// The REST door: one route per operation of the table, JSON in and out. It builds the
// operation's input from path, query and body, and renders results and errors; it decides
// nothing itself.
import { isUtf8 } from 'node:buffer';
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type { Logger } from 'pino';
import { errors, ParameterError, type ApiError } from '../../errors.js';
import type { Operation } from '../../operations/define.js';
import { toJsonSchema, unwrapNullable, type JsonSchema } from '../../operations/jsonSchema.js';
import { readText } from '../../operations/lexical.js';
import { checkPermission, runOperation } from '../../operations/pipeline.js';
import { authenticatedCall, callState } from '../callState.js';
import { bodyEncodingUnsupported, toApiError } from '../errorMapping.js';
import type { DoorDependencies } from '../doorDependencies.js';

const JSON_TYPES = ['application/json', 'application/*+json'];

export function restDoor(operations: readonly Operation[], dependencies: DoorDependencies): Router {
  const router = express.Router({ caseSensitive: true, strict: false });
  const parseJson = express.json({ limit: dependencies.config.REST_BODY_LIMIT_BYTES, type: JSON_TYPES, strict: false, verify: requireUtf8 });

  // Every call is authenticated first, whether its route exists or not (an unknown route is
  // a 404 only to a caller who may know). The gate runs in each route rather than in a
  // router.use('/v2') layer before them, which Express would make every call pass through.
  const markRest: RequestHandler = (_req, res, next) => {
    callState(res).protocol = 'rest';
    next();
  };
  const authenticate = [markRest, ...dependencies.authenticate];

  for (const operation of operations) {
    const inputSchema = toJsonSchema(operation.input, 'input');
    const method = operation.rest.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete';
    const takesBody = Object.values(operation.rest.sources).some((source) => source === 'body' || source === 'bodyField');
    const readBody = takesBody ? [requireJsonBody, parseJson] : [];
    // Before anything of the input is read: a caller without the permission is told only that.
    const permitted: RequestHandler = (_req, res, next) => {
      checkPermission(operation, authenticatedCall(res).caller);
      next();
    };
    router[method](`/v2${operation.rest.path}`, ...authenticate, permitted, ...readBody, (req, res, next) => {
      callState(res).operation = operation.name;
      // An operation that takes no body refuses one rather than ignoring it.
      if (!takesBody && hasBody(req)) return next(new ParameterError([], 'must be empty for this operation'));
      const { caller, quota } = authenticatedCall(res);
      const context = dependencies.callContext(req, caller, quota);
      Promise.resolve()
        .then(() => runOperation(operation, context, restInput(operation, inputSchema, req)))
        .then((result) => {
          if (operation.rest.successStatus === 204) res.status(204).end();
          else sendJson(res, operation.rest.successStatus, result);
        })
        .catch(next);
    });
  }

  router.use('/v2', ...authenticate, (req, _res, next) => next(errors.routeNotFound(req.method, req.originalUrl.split('?')[0] ?? '')));
  return router;
}

/**
 * JSON in UTF-8 only (RFC 8259), the bytes checked before they are decoded: body-parser would
 * also take UTF-16 and UTF-32, and turn each byte that is not UTF-8 into U+FFFD.
 */
function requireUtf8(_req: Request, _res: Response, body: Buffer, charset: string): void {
  if (charset.toLowerCase() !== 'utf-8') throw bodyEncodingUnsupported();
  if (!isUtf8(body)) throw errors.invalidParameter('The request body is not valid UTF-8.');
}

/** A body that is not JSON is refused whole (415) rather than read as an empty input. */
function requireJsonBody(req: Request, _res: Response, next: NextFunction): void {
  if (hasBody(req) && !req.is(JSON_TYPES)) {
    return next(errors.unsupportedContentType('The request body must be JSON (Content-Type: application/json).'));
  }
  next();
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The operation's input, gathered from where the route's table entry says each field lives. */
function restInput(operation: Operation, schema: JsonSchema, req: Request): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const sources = operation.rest.sources;
  // The commonest call takes nothing and sends no query string: nothing to gather then.
  if (Object.keys(sources).length === 0 && !req.url.includes('?')) return input;
  const body: unknown = req.body;
  const bodyFields = Object.keys(sources).filter((field) => sources[field] === 'bodyField');
  if (bodyFields.length > 0) {
    if (!isPlainObject(body)) throw new ParameterError([], 'must be a JSON object');
    for (const key of Object.keys(body)) {
      if (!bodyFields.includes(key)) throw new ParameterError([key], 'is not a known field');
    }
  }
  for (const [key, value] of Object.entries(req.query)) {
    if (sources[key] !== 'query') throw new ParameterError([key], 'is not a known query parameter');
    const fieldType = unwrapNullable(schema.properties?.[key] ?? {}).schema.type;
    input[key] = typeof value === 'string' ? readText(value, fieldType) : value;
  }
  for (const [field, source] of Object.entries(sources)) {
    if (source === 'path') input[field] = req.params[field];
    if (source === 'body') input[field] = body;
    if (source === 'bodyField' && isPlainObject(body) && Object.hasOwn(body, field)) input[field] = body[field];
  }
  return input;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** How REST names a field: a field of the whole-body input is named on its own. */
function restFieldName(operation: Operation) {
  return (path: ReadonlyArray<string | number>): string => {
    const [first, ...rest] = path;
    const segments = typeof first === 'string' && operation.rest.sources[first] === 'body' ? rest : path;
    return segments.map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`)).join('');
  };
}

/** JSON out, without the work of res.json() this API never needs (ETag, freshness, JSONP). */
function sendJson(res: Response, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

export function sendRestError(error: ApiError, res: Response): void {
  callState(res).answeredError = error;
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  sendJson(res, error.status, { message: error.contractMessage });
}

/** The REST door's error renderer (also the app's last one). */
export function restErrorHandler(logger: Logger, operations: readonly Operation[]) {
  const byName = new Map(operations.map((operation) => [operation.name, operation]));
  return (error: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(error);
    const state = callState(res);
    let apiError = toApiError(error, state.requestId, logger);
    const operation = state.operation ? byName.get(state.operation) : undefined;
    if (apiError instanceof ParameterError && operation) {
      apiError = apiError.renamed(restFieldName(operation));
    }
    sendRestError(apiError, res);
  };
}

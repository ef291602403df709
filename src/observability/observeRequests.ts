// What every request gets on its way in and out, in one middleware with one listener (this
// runs on every call, so it is kept lean): a request id (the caller's X-Request-Id when sane,
// else a new one, returned as X-Request-Id), nosniff and no-store on every answer,
// `Connection: close` while the server drains, and
// once the response is over, its metrics and one JSON log line (pino): request id, protocol,
// operation, status, the contract's error code if any, duration, account and API user. Never a
// body, a header, a password or a hash: the line is built here field by field.
//
// The line's level says whose the problem is, not what the status is: a SOAP fault is HTTP 500
// for a caller's mistake too, and a 503 is an answer the gateway chose (compares shed in a cold
// storm, the database away, a drain), with Retry-After. So: `error` for the server's own faults
// (the contract's 5xx other than 503), `warn` for a 503, `info` for the rest. After a deploy a
// cold storm sheds thousands of calls, and those must not read as thousands of errors.
//
// Not pino-http: it makes two child loggers, binds and serializes the whole request and adds
// four listeners on every request, whether anything is logged or not. Measured with
// `npm run bench`'s REST scenario, that machinery cost a quarter of the gateway's throughput.
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { callState, contractStatus } from '../transports/callState.js';
import type { Health } from './health.js';
import type { Metrics } from './metrics.js';

const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Probes and scrapes are not requests anyone wants a line for (they are counted). */
const UNLOGGED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export function observeRequests(logger: Logger, metrics: Metrics, health: Health): RequestHandler {
  // The line is built field by field from values that hold no secret, so the redaction the
  // logger applies to everything else (which copies each object it logs) is spared here.
  const requestLines = logger.child({}, { redact: [] });
  return (req, res, next) => {
    const startedAt = performance.now();
    const offered = req.headers['x-request-id'];
    const requestId = typeof offered === 'string' && ACCEPTABLE_ID.test(offered) ? offered : randomUUID();
    const state = callState(res);
    state.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    // Every answer: never read as another type than it says, never kept by a cache on the way
    // (authenticated answers hold account data; the Access page sets its own).
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-store');
    if (health.isDraining) res.setHeader('Connection', 'close');
    // Read now: inside a router mounted at a path, Express shortens req.url (and req.path).
    const path = req.path;
    const logged = !UNLOGGED_PATHS.has(path);
    // 'close' comes once per response: sent in full (writableFinished), or cut short because
    // the connection went first.
    res.once('close', () => {
      const durationMs = performance.now() - startedAt;
      if (res.writableFinished) metrics.recordAnswer(state, res.statusCode, durationMs / 1000);
      if (!logged) return;
      const line = {
        requestId,
        protocol: state.protocol ?? null,
        operation: state.operation ?? null,
        method: req.method,
        path,
        status: res.statusCode,
        ...(state.answeredError ? { error: state.answeredError.code } : {}),
        durationMs: Math.round(durationMs * 10) / 10,
        accountId: state.caller?.account._id.toHexString() ?? null,
        apiUserId: state.caller?.user._id.toHexString() ?? null,
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      const status = contractStatus(state, res.statusCode);
      if (status === 503) requestLines.warn(line, 'request');
      else if (status >= 500) requestLines.error(line, 'request');
      else requestLines.info(line, 'request');
    });
    next();
  };
}

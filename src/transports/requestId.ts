import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { callState } from './callState.js';

const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Every call gets an id (the caller's X-Request-Id when it is sane), returned as X-Request-Id. */
export const assignRequestId: RequestHandler = (req, res, next) => {
  const offered = req.headers['x-request-id'];
  const requestId = typeof offered === 'string' && ACCEPTABLE_ID.test(offered) ? offered : randomUUID();
  callState(res).requestId = requestId;
  res.setHeader('X-Request-Id', requestId);
  next();
};

// When, and by which credentials, a SOAP call is authenticated. A call with an Authorization
// header is an HTTP Basic call, authenticated before its body is read, so that a caller without
// valid credentials cannot make the server read and parse a megabyte; a failed Basic is not
// retried with a UsernameToken (the contract: when both are sent, HTTP Basic is used). A call
// without one can only carry its credentials in the envelope: its body is read (size-limited)
// and its envelope parsed (hostile XML refused) first, then the UsernameToken in its
// wsse:Security header goes through passport and the same verifier and quota.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { DoorDependencies } from '../doorDependencies.js';
import type { UsernameToken } from './wsSecurity.js';

export interface SoapGate {
  /** Runs the HTTP Basic gate for calls with an Authorization header, before the body is read. */
  beforeBody: RequestHandler;
  /** Runs the UsernameToken gate for calls without one, once the envelope has been read. */
  afterEnvelope: RequestHandler;
}

export function soapGate(dependencies: DoorDependencies, tokenOf: (req: Request) => UsernameToken | null): SoapGate {
  const basic = chain(dependencies.authenticate);
  const usernameToken = chain(dependencies.authenticateByUsernameToken(tokenOf));
  return {
    beforeBody: (req, res, next) => (sendsBasic(req) ? basic(req, res, next) : next()),
    afterEnvelope: (req, res, next) => (sendsBasic(req) ? next() : usernameToken(req, res, next)),
  };
}

/** Any Authorization header, well-formed or not, makes the call an HTTP Basic one. */
function sendsBasic(req: Request): boolean {
  return req.headers.authorization !== undefined;
}

/** Handlers run one after the other as one, the first error ending the run (as Express would). */
function chain(handlers: readonly RequestHandler[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    let index = 0;
    const step = (error?: unknown): void => {
      if (error !== undefined && error !== null) return next(error);
      const handler = handlers[index++];
      if (!handler) return next();
      handler(req, res, step);
    };
    step();
  };
}

// What the shared middleware learns about a call, kept on res.locals for the doors.
import type { Response } from 'express';
import type { Caller } from '../auth/credentials.js';
import type { ApiError } from '../errors.js';
import type { QuotaState } from '../domain/callQuota.js';

export interface CallState {
  requestId: string;
  caller?: Caller;
  quota?: QuotaState;
  /** The operation's name once a door has found it (for logs). */
  operation?: string;
  protocol?: 'rest' | 'soap';
  /**
   * The contract's error the call was answered with, set by whichever door wrote it (for logs:
   * a SOAP fault is HTTP 500 whether the caller or the server was at fault).
   */
  answeredError?: ApiError;
}

export function callState(res: Response): CallState {
  return res.locals as CallState;
}

/** The status the contract's error says, which a SOAP fault's HTTP 500 does not; else the HTTP one. */
export function contractStatus(state: CallState, httpStatus: number): number {
  return state.answeredError?.status ?? httpStatus;
}

/** The authenticated caller and its quota: only ever called after authentication ran. */
export function authenticatedCall(res: Response): Required<Pick<CallState, 'caller' | 'quota'>> {
  const { caller, quota } = callState(res);
  if (!caller || !quota) throw new Error('authentication did not run before the operation');
  return { caller, quota };
}

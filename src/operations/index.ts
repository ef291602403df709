// The operation table: the one list that REST, SOAP, the WSDL check and the API documents
// all walk. Adding an operation is adding it here (and its rows in the tests).
import { getCurrentAccountInfo, getServerTime } from './account.js';
import {
  createApiUser,
  deleteApiUser,
  deleteApiUsers,
  getApiUserById,
  getApiUsers,
  resetApiUserPassword,
  updateApiUser,
} from './apiUsers.js';
import { getAuditEvents } from './audit.js';
import type { Operation } from './define.js';

export const operations: readonly Operation[] = [
  getServerTime,
  getCurrentAccountInfo,
  getApiUsers,
  getApiUserById,
  createApiUser,
  updateApiUser,
  resetApiUserPassword,
  deleteApiUser,
  deleteApiUsers,
  getAuditEvents,
];

export type { Operation } from './define.js';

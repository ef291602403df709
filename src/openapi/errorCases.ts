// Which of the contract's errors each REST operation can answer, and why. Most follow from
// the table entry and from what the REST door and the shared gate do with every call (every
// call is authenticated and counted; a route that reads a body checks its type and size; a
// path names a resource that may not exist). What a handler refuses on its own (owner
// protection) the table does not say, so it is listed here; test/openapi.test.ts provokes
// every documented status on the live gateway to hold this file to the truth.
import { errors, ParameterError, type ApiError } from '../errors.js';
import { passwordPolicyFailures } from '../domain/passwordPolicy.js';
import type { Operation } from '../operations/define.js';
import { toJsonSchema, type JsonSchema } from '../operations/jsonSchema.js';

/** Operations whose handler refuses to delete, disable or demote the account owner (409). */
export const OWNER_PROTECTED_OPERATIONS: ReadonlySet<string> = new Set(['UpdateApiUser', 'DeleteApiUser', 'DeleteApiUsers']);

export interface ErrorCase {
  /** Names the example in the document: the code, or the code and what sets it apart. */
  key: string;
  /** The error as the gateway builds it: status, code, sentence and headers all come from it. */
  example: ApiError;
  /** When the operation answers it, as the end of "Answered when …". */
  when: string;
  /** Answered after the gate counted the call, so it carries the X-RateLimit-* headers. */
  counted: boolean;
}

export interface OperationTraits {
  takesBody: boolean;
  hasPathFields: boolean;
  /** Sets a password somewhere in its input, which the password policy checks. */
  setsPassword: boolean;
  needsManagePermission: boolean;
  ownerProtected: boolean;
}

export function traitsOf(operation: Operation): OperationTraits {
  const sources = Object.values(operation.rest.sources);
  return {
    takesBody: sources.some((source) => source === 'body' || source === 'bodyField'),
    hasPathFields: sources.includes('path'),
    setsPassword: hasField(toJsonSchema(operation.input, 'input'), 'password'),
    needsManagePermission: operation.permission === 'manageAccount',
    ownerProtected: OWNER_PROTECTED_OPERATIONS.has(operation.name),
  };
}

function hasField(schema: JsonSchema, name: string): boolean {
  return Object.entries(schema.properties ?? {}).some(([field, property]) => field === name || hasField(property, name));
}

/** Every error case of the operation, in status order. */
export function errorCasesOf(operation: Operation, restBodyLimitBytes: number): ErrorCase[] {
  const traits = traitsOf(operation);
  const cases: Array<ErrorCase | false> = [
    {
      key: 'ERROR_PARAMETER_INVALID',
      example: new ParameterError(['sort'], 'is not a known query parameter'),
      when: 'an input field is missing, unknown, of the wrong type, too long or out of range, or a body is sent to an operation that takes none',
      counted: true,
    },
    traits.takesBody && {
      key: 'ERROR_PARAMETER_INVALID_JSON',
      example: errors.invalidParameter('The request body is not valid JSON.'),
      when: 'the body is not valid JSON',
      counted: true,
    },
    traits.setsPassword && {
      key: 'ERROR_WEAK_PASSWORD',
      example: errors.weakPassword(passwordPolicyFailures('secret', { username: '', companyName: '' })),
      when: 'the password fails the password policy; the sentence names every rule it fails',
      counted: true,
    },
    {
      key: 'ERROR_INVALID_LOGIN',
      example: errors.invalidLogin(),
      when: 'the credentials are missing, malformed or wrong, or the API user or its account is disabled or locked: all alike, on purpose',
      counted: false,
    },
    traits.needsManagePermission && {
      key: 'ERROR_PERMISSION_DENIED',
      example: errors.permissionDenied(),
      when: "the caller is neither the account owner nor has the 'Can manage account' permission",
      counted: true,
    },
    traits.hasPathFields && {
      key: 'ERROR_APIUSER_NOT_FOUND',
      example: errors.apiUserNotFound(),
      when: "the id names no API user of the caller's account (unknown, deleted, another account's, or not an id at all)",
      counted: true,
    },
    traits.ownerProtected && {
      key: 'ERROR_OPERATION_NOT_ALLOWED',
      example: errors.operationNotAllowed('The account owner cannot be deleted.'),
      when: "the call would delete or disable the account owner, or take its 'Can manage account' permission",
      counted: true,
    },
    traits.takesBody && {
      key: 'ERROR_REQUEST_TOO_LARGE',
      example: errors.requestTooLarge(restBodyLimitBytes),
      when: 'the body, decompressed, is larger than the limit',
      counted: true,
    },
    traits.takesBody && {
      key: 'ERROR_CONTENT_TYPE_IS_NOT_SUPPORTED',
      example: errors.unsupportedContentType('The request body must be JSON (Content-Type: application/json).'),
      when: 'the body is not sent as JSON, or not as UTF-8',
      counted: true,
    },
    {
      key: 'ERROR_APIUSAGE_EXCEEDED',
      example: errors.quotaExceeded(2000, 1800),
      when: "the account's calls for this clock hour (UTC) are spent",
      counted: true,
    },
    {
      key: 'ERROR_UNKNOWN',
      example: errors.unknown('3f1c2a9e-0b7d-4e51-9a6f-2c8d5e4b1a70'),
      when: 'something unexpected failed; the details are logged under the quoted request id',
      counted: false,
    },
    {
      key: 'ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE',
      example: errors.unavailable(),
      when: 'the database cannot be reached',
      counted: false,
    },
  ];
  return cases.filter((errorCase): errorCase is ErrorCase => errorCase !== false);
}

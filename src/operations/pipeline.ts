// The one path every call takes once a door has authenticated it: permission first (a caller
// without it learns nothing, not even whether its input was valid), then the input check, then
// the handler. The doors check the permission once more before they read anything of the
// input themselves (a body, a query string, XML), so that a refusal of it comes first too.
import type { z } from 'zod';
import type { Caller } from '../auth/credentials.js';
import { errors, ParameterError } from '../errors.js';
import type { CallContext } from './context.js';
import type { Operation } from './define.js';

/** Refuses (403) a caller who may not run the operation at all. */
export function checkPermission(operation: Operation, caller: Caller): void {
  const { user } = caller;
  if (operation.permission === 'manageAccount' && !(user.isOwner || user.canManageAccount)) throw errors.permissionDenied();
}

export async function runOperation(operation: Operation, context: CallContext, input: unknown): Promise<unknown> {
  checkPermission(operation, context.caller);
  const parsed = operation.input.safeParse(input);
  if (!parsed.success) throw parameterError(parsed.error, input);
  return operation.handle(context, parsed.data);
}

/** The first problem zod found, as the contract's ERROR_PARAMETER_INVALID naming its field. */
export function parameterError(error: z.ZodError, input: unknown): ParameterError {
  const issue = error.issues[0];
  if (!issue) return new ParameterError([], 'is not valid');
  const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
  switch (issue.code) {
    case 'unrecognized_keys':
      return new ParameterError([...path, issue.keys[0] ?? ''], 'is not a known field');
    case 'invalid_type': {
      if (valueAt(input, path) === undefined) return new ParameterError(path, 'is required');
      if (issue.expected === 'object') return new ParameterError(path, path.length === 0 ? 'must be a JSON object' : 'must be an object');
      return new ParameterError(path, issue.message.startsWith('Invalid input') ? `must be of type ${issue.expected}` : issue.message);
    }
    default:
      return new ParameterError(path, issue.message);
  }
}

function valueAt(input: unknown, path: ReadonlyArray<string | number>): unknown {
  let value = input;
  for (const segment of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

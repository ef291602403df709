// What an operation is: one plain object that both doors, the WSDL check and the API
// documents read. Like Ghost's api-framework, an operation that does not say who may call it
// does not load: forgetting authorization is a startup error, not a hole.
import type { z } from 'zod';
import type { CallContext } from './context.js';

/** Who may call: any authenticated API user, or only the owner and 'Can manage account' users. */
export type Permission = 'anyApiUser' | 'manageAccount';
export const PERMISSIONS: readonly Permission[] = ['anyApiUser', 'manageAccount'];

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Where REST finds an input field: in the path (`/api-users/:id`), the query string, as the
 * whole JSON body, or as one field of a JSON body object. SOAP always finds each field as a
 * child of the operation's wrapper element.
 */
export type RestSource = 'path' | 'query' | 'body' | 'bodyField';

// The input is always an object schema: its keys are the SOAP wrapper's children.
type InputSchema = z.ZodObject;

export interface OperationDefinition<Input extends InputSchema, Result extends z.ZodType | null> {
  /** The SOAP operation name (PascalCase), also the operation's name in logs and documents. */
  name: string;
  summary: string;
  permission: Permission;
  rest: {
    method: HttpMethod;
    /** Under /v2, with `:name` for path fields. */
    path: string;
    successStatus: 200 | 201 | 204;
    sources: { [K in keyof z.output<Input>]-?: RestSource };
  };
  input: Input;
  /** The result's contract shape (REST field names), or null when there is none. */
  result: Result;
  handle(context: CallContext, input: z.output<Input>): Promise<Result extends z.ZodType ? z.input<Result> : void>;
}

/** An operation as the table holds it, its types erased. */
export interface Operation {
  name: string;
  summary: string;
  permission: Permission;
  rest: { method: HttpMethod; path: string; successStatus: 200 | 201 | 204; sources: Readonly<Record<string, RestSource>> };
  input: InputSchema;
  result: z.ZodType | null;
  handle(context: CallContext, input: unknown): Promise<unknown>;
}

export function defineOperation<Input extends InputSchema, Result extends z.ZodType | null>(
  definition: OperationDefinition<Input, Result>,
): Operation {
  const problems = definitionProblems(definition as unknown as Operation);
  if (problems.length > 0) {
    throw new Error(`Operation ${String(definition.name)} is not well defined: ${problems.join('; ')}.`);
  }
  return definition as unknown as Operation;
}

function definitionProblems(operation: Operation): string[] {
  const problems: string[] = [];
  if (!/^[A-Z][A-Za-z0-9]*$/.test(operation.name ?? '')) problems.push('its name must be PascalCase');
  if (!PERMISSIONS.includes(operation.permission)) {
    problems.push(`it must declare a permission, one of ${PERMISSIONS.join(', ')}`);
  }
  if (typeof operation.handle !== 'function') problems.push('it has no handler');
  if (!operation.rest?.path?.startsWith('/')) problems.push('its REST path must start with /');
  const fields = Object.keys(operation.input?.shape ?? {});
  const sources = operation.rest?.sources ?? {};
  const pathFields = [...(operation.rest?.path ?? '').matchAll(/:([A-Za-z]+)/g)].map((match) => match[1]);
  for (const field of fields) {
    const source = sources[field];
    if (!source) problems.push(`input field ${field} has no REST source`);
    if (source === 'path' && !pathFields.includes(field)) problems.push(`path field ${field} is not in the REST path`);
  }
  for (const field of pathFields) {
    if (field && sources[field] !== 'path') problems.push(`REST path field ${field} is not a path input`);
  }
  const bodySources = Object.values(sources).filter((source) => source === 'body').length;
  const bodyFieldSources = Object.values(sources).filter((source) => source === 'bodyField').length;
  if (bodySources > 1 || (bodySources === 1 && bodyFieldSources > 0)) {
    problems.push('at most one input field can be the whole body, and then no other field can come from the body');
  }
  if ((bodySources > 0 || bodyFieldSources > 0) && operation.rest.method === 'GET') problems.push('a GET has no body');
  if (operation.result === null && operation.rest?.successStatus !== 204) problems.push('an operation without a result answers 204');
  return problems;
}

// One table entry as an OpenAPI operation: its parameters and body exactly where the REST door
// reads them (`rest.sources`), its success answer from the result schema, and its errors.
import type { Operation, Permission } from '../operations/define.js';
import { toJsonSchema, type JsonSchema } from '../operations/jsonSchema.js';
import { errorCasesOf } from './errorCases.js';
import { errorResponses } from './errorResponses.js';
import { headerRefs, RATE_LIMIT_HEADERS } from './headers.js';
import type { SchemaComponents } from './namedSchemas.js';
import type { OperationObject, ParameterObject, RequestBodyObject, ResponseObject } from './types.js';

export const SECURITY_SCHEME = 'basicAuth';

const WHO_MAY_CALL: Record<Permission, string> = {
  anyApiUser: 'Any API user may call it.',
  manageAccount: "Only the account owner and API users with the 'Can manage account' permission may call it.",
};

/** `/api-users/:id` as OpenAPI writes it, under /v2: `/v2/api-users/{id}`. */
export function openApiPath(operation: Operation): string {
  return `/v2${operation.rest.path.replace(/:([A-Za-z]+)/g, '{$1}')}`;
}

export function operationObject(operation: Operation, schemas: SchemaComponents, restBodyLimitBytes: number): OperationObject {
  const input = toJsonSchema(operation.input, 'input');
  const parameters = parametersOf(operation, input, schemas);
  const requestBody = requestBodyOf(operation, input, schemas);
  return {
    operationId: operation.name,
    summary: operation.summary,
    description: `${WHO_MAY_CALL[operation.permission]} SOAP: the ${operation.name} operation of the WSDL, with the same result.`,
    security: [{ [SECURITY_SCHEME]: [] }],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: {
      [String(operation.rest.successStatus)]: successResponse(operation, schemas),
      ...errorResponses(errorCasesOf(operation, restBodyLimitBytes)),
    },
  };
}

function fieldsFrom(operation: Operation, ...sources: string[]): string[] {
  return Object.entries(operation.rest.sources)
    .filter(([, source]) => sources.includes(source))
    .map(([field]) => field);
}

function fieldSchema(input: JsonSchema, field: string, schemas: SchemaComponents): JsonSchema {
  return schemas.use(input.properties?.[field] ?? {});
}

function isRequired(input: JsonSchema, field: string): boolean {
  return input.required?.includes(field) ?? false;
}

function parametersOf(operation: Operation, input: JsonSchema, schemas: SchemaComponents): ParameterObject[] {
  return fieldsFrom(operation, 'path', 'query').map((field) => {
    const where = operation.rest.sources[field] === 'path' ? 'path' : 'query';
    // A path parameter is always required in OpenAPI: the route does not match without it.
    return { name: field, in: where, required: where === 'path' || isRequired(input, field), schema: fieldSchema(input, field, schemas) };
  });
}

/** The whole body is one input field (`body`), or an object of several (`bodyField`). */
function requestBodyOf(operation: Operation, input: JsonSchema, schemas: SchemaComponents): RequestBodyObject | undefined {
  const [wholeBody] = fieldsFrom(operation, 'body');
  const bodyFields = fieldsFrom(operation, 'bodyField');
  let schema: JsonSchema;
  let required: boolean;
  if (wholeBody !== undefined) {
    schema = fieldSchema(input, wholeBody, schemas);
    required = isRequired(input, wholeBody);
  } else if (bodyFields.length > 0) {
    const requiredFields = bodyFields.filter((field) => isRequired(input, field));
    schema = {
      type: 'object',
      properties: Object.fromEntries(bodyFields.map((field) => [field, fieldSchema(input, field, schemas)])),
      ...(requiredFields.length > 0 ? { required: requiredFields } : {}),
      additionalProperties: false,
    };
    // The door reads a body object whenever the route takes body fields, even all-optional ones.
    required = true;
  } else {
    return undefined;
  }
  return { required, content: { 'application/json': { schema } } };
}

function successResponse(operation: Operation, schemas: SchemaComponents): ResponseObject {
  const headers = headerRefs(RATE_LIMIT_HEADERS);
  if (operation.result === null) return { description: 'Done; no content.', headers };
  return {
    description: operation.rest.successStatus === 201 ? 'Created.' : 'OK.',
    headers,
    content: { 'application/json': { schema: schemas.use(toJsonSchema(operation.result, 'output')) } },
  };
}

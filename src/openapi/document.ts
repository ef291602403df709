// The OpenAPI 3.1 document of the REST door, generated from the operation table that builds
// the door's routes, so that it cannot describe a route, field or status the door does not
// have. Built once per gateway; only `servers` differs between base URLs (see route.ts).
import type { Operation } from '../operations/define.js';
import { ERROR_SCHEMA, ERROR_SCHEMA_NAME } from './errorResponses.js';
import { HEADERS } from './headers.js';
import { SchemaComponents } from './namedSchemas.js';
import { openApiPath, operationObject, SECURITY_SCHEME } from './operationObject.js';
import type { OpenApiDocument, PathItemObject } from './types.js';

const DESCRIPTION = [
  'JSON REST door of dualgate; the same operations are served over SOAP 1.1 (WSDL at /v2/api.svc?wsdl) with the same results.',
  'Every operation needs HTTP Basic credentials of an API user and counts against its account\'s hourly quota.',
  'Errors answer `{"message": "<one sentence>. ERROR_CODE"}`; a route that does not exist answers 404 ERROR_NOT_FOUND.',
  'Generated from the gateway\'s operation table.',
].join(' ');

export interface DocumentOptions {
  /** REST_BODY_LIMIT_BYTES, quoted in the 413 answers. */
  restBodyLimitBytes: number;
}

/** The document without its `servers`, which depend on the URL it is fetched at. */
export function openApiDocument(operations: readonly Operation[], options: DocumentOptions): OpenApiDocument {
  const schemas = new SchemaComponents();
  const paths: Record<string, PathItemObject> = {};
  for (const operation of operations) {
    const method = operation.rest.method.toLowerCase() as Lowercase<Operation['rest']['method']>;
    const pathItem = (paths[openApiPath(operation)] ??= {});
    pathItem[method] = operationObject(operation, schemas, options.restBodyLimitBytes);
  }
  return {
    openapi: '3.1.0',
    info: { title: 'dualgate API', version: '2', description: DESCRIPTION },
    servers: [],
    security: [{ [SECURITY_SCHEME]: [] }],
    paths,
    components: {
      schemas: { [ERROR_SCHEMA_NAME]: ERROR_SCHEMA, ...schemas.schemas },
      headers: HEADERS,
      securitySchemes: {
        [SECURITY_SCHEME]: {
          type: 'http',
          scheme: 'basic',
          description: 'The username and password of an API user (the password may contain ":"; RFC 7617).',
        },
      },
    },
  };
}

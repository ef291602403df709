// An operation's error cases as OpenAPI responses, one per status. The body is what the REST
// door sends (`{"message": "<sentence>. ERROR_CODE"}`), its schema narrowed to the codes that
// status can carry for this operation, with the gateway's own sentences as examples.
import type { JsonSchema } from '../operations/jsonSchema.js';
import type { ErrorCase } from './errorCases.js';
import { headerRefs, isHeaderName, RATE_LIMIT_HEADERS, type HeaderName } from './headers.js';
import { SCHEMA_REF_PREFIX } from './namedSchemas.js';
import type { ResponseObject } from './types.js';

export const ERROR_SCHEMA_NAME = 'Error';

/** The REST door's error body, whatever the code. */
export const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    message: {
      type: 'string',
      description: 'One human sentence, then a space and the ERROR_* code (the same as SOAP faultstring and detail/ErrorCode).',
      pattern: ' ERROR_[A-Z_]+$',
    },
  },
  required: ['message'],
  additionalProperties: false,
};

export function errorResponses(cases: readonly ErrorCase[]): Record<string, ResponseObject> {
  const byStatus = new Map<number, ErrorCase[]>();
  for (const errorCase of cases) byStatus.set(errorCase.example.status, [...(byStatus.get(errorCase.example.status) ?? []), errorCase]);
  return Object.fromEntries([...byStatus].map(([status, group]) => [String(status), errorResponse(group)]));
}

function errorResponse(cases: readonly ErrorCase[]): ResponseObject {
  const codes = [...new Set(cases.map((errorCase) => errorCase.example.code))];
  const headers = new Set<HeaderName>();
  for (const errorCase of cases) {
    if (errorCase.counted) RATE_LIMIT_HEADERS.forEach((name) => headers.add(name));
    // The headers the error itself sets (Retry-After, WWW-Authenticate), from the error.
    for (const name of Object.keys(errorCase.example.headers)) {
      if (!isHeaderName(name)) throw new Error(`The ${errorCase.key} error sets ${name}, which the document does not describe.`);
      headers.add(name);
    }
  }
  return {
    description: cases.map((errorCase) => `${errorCase.example.code}: ${errorCase.when}.`).join(' '),
    headers: headerRefs(headers),
    content: {
      'application/json': {
        schema: {
          $ref: `${SCHEMA_REF_PREFIX}${ERROR_SCHEMA_NAME}`,
          type: 'object',
          properties: { message: { type: 'string', pattern: ` (?:${codes.join('|')})$` } },
        },
        examples: Object.fromEntries(
          cases.map((errorCase) => [errorCase.key, { summary: errorCase.when, value: { message: errorCase.example.contractMessage } }]),
        ),
      },
    },
  };
}

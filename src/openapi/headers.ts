// The response headers the gateway sends, as reusable components: each response refers to
// the ones it carries, so that the description of each header is written once.
import { BASIC_CHALLENGE } from '../errors.js';
import type { HeaderObject, Reference } from './types.js';

const integer = { type: 'integer', minimum: 0 };

export const HEADERS = {
  'X-Request-Id': {
    description: "The call's id: the caller's own X-Request-Id when it is 1–128 of A-Za-z0-9._:-, else a new UUID. Log lines about the call carry it.",
    schema: { type: 'string' },
  },
  'X-RateLimit-Limit': {
    description: "The account's API calls per clock hour (UTC), across all its API users and both protocols.",
    schema: integer,
  },
  'X-RateLimit-Remaining': { description: 'The calls the account has left in this hour.', schema: integer },
  'X-RateLimit-Reset': { description: 'Seconds until the hour ends and the count starts again.', schema: integer },
  'Retry-After': { description: 'Seconds to wait before calling again.', schema: { type: 'string', pattern: '^[0-9]+$' } },
  'WWW-Authenticate': { description: 'The HTTP Basic challenge.', schema: { type: 'string', const: BASIC_CHALLENGE } },
} satisfies Record<string, HeaderObject>;

export type HeaderName = keyof typeof HEADERS;

/** What every call counted against the quota carries, its answer an error or not. */
export const RATE_LIMIT_HEADERS: readonly HeaderName[] = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'];

export function isHeaderName(name: string): name is HeaderName {
  return Object.hasOwn(HEADERS, name);
}

/** References to the named headers, X-Request-Id (on every answer) first. */
export function headerRefs(names: Iterable<HeaderName>): Record<string, Reference> {
  const all = new Set<HeaderName>(['X-Request-Id', ...names]);
  return Object.fromEntries([...all].map((name) => [name, { $ref: `#/components/headers/${name}` }]));
}

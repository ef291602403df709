import type { Operation } from '../../src/operations/define.js';
import { basicAuth, type Credentials } from './soap.js';

export interface RestResponse {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/** Calls an operation of the table over REST, its input placed where the table says. */
export async function restCall(
  baseUrl: string,
  credentials: Credentials | null,
  operation: Operation,
  input: Record<string, unknown> = {},
): Promise<RestResponse> {
  let path = operation.rest.path;
  const query = new URLSearchParams();
  let body: unknown;
  for (const [field, value] of Object.entries(input)) {
    const source = operation.rest.sources[field];
    if (source === 'path') path = path.replace(`:${field}`, encodeURIComponent(String(value)));
    if (source === 'query') query.set(field, String(value));
    if (source === 'body') body = value;
    if (source === 'bodyField') body = { ...(body as object), [field]: value };
  }
  const search = query.size > 0 ? `?${query}` : '';
  return restRequest(baseUrl, credentials, operation.rest.method, `/v2${path}${search}`, body);
}

export async function restRequest(
  baseUrl: string,
  credentials: Credentials | null,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RestResponse> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(credentials ? { Authorization: basicAuth(credentials) } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    // No call may hang a test: a gateway that does not answer fails it.
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

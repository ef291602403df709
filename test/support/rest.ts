import type { Operation } from '../../src/operations/define.js';
import { send, type HttpTarget } from './http.js';
import { basicAuth, type Credentials } from './soap.js';

export interface RestResponse {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/** Calls an operation of the table over REST, its input placed where the table says. */
export async function restCall(
  target: HttpTarget,
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
  return restRequest(target, credentials, operation.rest.method, `/v2${path}${search}`, body);
}

export async function restRequest(
  target: HttpTarget,
  credentials: Credentials | null,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RestResponse> {
  const response = await send(
    target,
    method,
    path,
    {
      ...(credentials ? { Authorization: basicAuth(credentials) } : {}),
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  );
  let parsed: unknown;
  try {
    parsed = response.text ? JSON.parse(response.text) : undefined;
  } catch {
    parsed = response.text;
  }
  return { status: response.status, headers: response.headers, body: parsed, text: response.text };
}

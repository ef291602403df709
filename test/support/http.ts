// How a test reaches a gateway. In-process, through supertest, for what the app answers
// (statuses, headers, bodies, the error table, parity): the target is the app itself, served
// for each request by the same kind of HTTP server the product runs (createHttpServer), which
// supertest starts on a free port and closes. Over a real socket, with Node's fetch, where the
// socket itself matters (shutdown, outages, several processes, the browser, node-soap's
// client): the target is the base URL of a gateway listening on a port.
import type { Express } from 'express';
import supertest from 'supertest';
import { createHttpServer } from '../../src/transports/httpServer.js';

export type HttpTarget = Express | string;

export interface HttpExchange {
  status: number;
  headers: Headers;
  text: string;
}

/** No call may hang a test: a gateway that does not answer fails it. */
const ANSWER_WITHIN_MS = 30_000;
/**
 * supertest serves each in-process call on a new port: a Host of its own keeps what the
 * gateway derives from it (the WSDL's soap:address, the account's ApiEndpoint) the same from
 * one call to the next.
 */
export const IN_PROCESS_HOST = 'gateway.test';

export async function send(
  target: HttpTarget,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<HttpExchange> {
  if (typeof target === 'string') {
    const response = await fetch(`${target}${path}`, { method, headers, body, signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }
  const request = new supertest.Test(createHttpServer(target), method, path)
    .set('Host', IN_PROCESS_HOST)
    .set(headers)
    .timeout(ANSWER_WITHIN_MS)
    // The body goes out as given (superagent would write a Buffer sent as JSON as JSON).
    .serialize((body: unknown) => body as string)
    // Any status is an answer to look at, and every body is kept as text, whatever its type.
    .ok(() => true)
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
    });
  // Like fetch, a text body says what it is unless told (superagent would call it a form).
  if (typeof body === 'string' && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
    request.set('Content-Type', 'text/plain;charset=UTF-8');
  }
  const response = await (body === undefined ? request : request.send(body));
  const received = new Headers();
  for (const [name, value] of Object.entries(response.headers as Record<string, string | string[]>)) {
    for (const item of Array.isArray(value) ? value : [value]) received.append(name, item);
  }
  return { status: response.status, headers: received, text: response.body as string };
}

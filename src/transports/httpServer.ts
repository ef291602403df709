// The HTTP server the app runs in. Headers may reach 64 KB, so that an oversized
// Authorization header is refused by the gateway like any bad credentials (401) rather than
// by Node's parser; what Node's parser itself refuses still gets the contract's JSON shape.
//
// Node builds each request and response with the classes given here, whose instances have
// the app's request and response prototypes from birth. Express gives every request and
// response those prototypes on arrival (Object.setPrototypeOf); when they are theirs already,
// that is a no-op. Otherwise V8 changes the prototype of two live objects per request, and
// later property accesses on them (in Node's HTTP code, Express's and ours) leave their fast
// paths: measured here, a bare Express route took 120 µs of CPU per call instead of 24, and
// the gateway's REST call ~250 µs instead of ~165 (`npm run bench`, scenarios a and a′).
import { createServer, IncomingMessage, ServerResponse, type Server, type ServerOptions } from 'node:http';
import type { Express } from 'express';
import { Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';

export const MAX_HEADER_BYTES = 64 * 1024;

/** The server for `app`; from here on, the app's request and response prototypes are the server's. */
export function createHttpServer(app: Express): Server {
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, ...expressConstructors(app) }, app);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
    const message = tooLarge
      ? `The request headers are larger than ${MAX_HEADER_BYTES / 1024} KB. ERROR_REQUEST_TOO_LARGE`
      : 'The request is not valid HTTP. ERROR_PARAMETER_INVALID';
    const body = JSON.stringify({ message });
    socket.end(
      `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}

/**
 * Node's request and response classes, subclassed, with the subclasses' prototypes made
 * Express's: each takes over Express's own (its `app` and its methods, by inheritance) and
 * becomes the app's `request` / `response`, the prototype Express gives every request and
 * response. Subclasses rather than plain constructor functions: objects built through a
 * function that calls Node's constructor are laid out for none of the ~30 fields Node then
 * gives a response, which V8 then keeps in dictionary mode (every field access a hash lookup).
 */
function expressConstructors(app: Express): Pick<ServerOptions, 'IncomingMessage' | 'ServerResponse'> {
  class Request extends IncomingMessage {}
  class Response extends ServerResponse {}
  app.request = adoptExpressPrototype(Request, app.request);
  app.response = adoptExpressPrototype(Response, app.response);
  return { IncomingMessage: Request, ServerResponse: Response as typeof ServerResponse };
}

/** Makes `subclass.prototype` stand where Express's `prototype` stood, and returns it. */
function adoptExpressPrototype<T extends object>(subclass: { prototype: object }, prototype: T): T {
  const adopted = subclass.prototype;
  const constructor = Object.getOwnPropertyDescriptor(adopted, 'constructor');
  Object.defineProperties(adopted, Object.getOwnPropertyDescriptors(prototype));
  if (constructor) Object.defineProperty(adopted, 'constructor', constructor);
  // Express's prototype descends from Node's own (express.request from IncomingMessage's), so
  // the subclass keeps every method of both.
  Object.setPrototypeOf(adopted, Object.getPrototypeOf(prototype));
  return adopted as T;
}

/**
 * Stops accepting connections and resolves once every open one has ended, or after
 * `timeoutMs` with the rest cut (`onTimeout` is told first).
 *
 * Not http.Server#close(): that also drops idle keep-alive connections at once, and a client
 * sending its next call down one at that moment gets ECONNRESET for a call that was never
 * seen. Here only the listener closes. A connection in use ends after its next answer (which
 * says `Connection: close` once draining, see Health); an idle one ends when its keep-alive
 * timeout runs out, the time Node announces to clients (`Keep-Alive: timeout=5`) so that they
 * stop using it first.
 */
export function stopAccepting(server: Server, timeoutMs: number, onTimeout: () => void): Promise<void> {
  return new Promise((resolve) => {
    const deadline = setTimeout(() => {
      onTimeout();
      server.closeAllConnections();
    }, timeoutMs);
    Reflect.apply(NetServer.prototype.close, server, [
      () => {
        clearTimeout(deadline);
        resolve();
      },
    ]);
  });
}

// The HTTP server the app runs in. Headers may reach 64 KB, so that an oversized
// Authorization header is refused by the gateway like any bad credentials (401) rather than
// by Node's parser; what Node's parser itself refuses still gets the contract's JSON shape.
import { createServer, type RequestListener, type Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';

export const MAX_HEADER_BYTES = 64 * 1024;

export function createHttpServer(app: RequestListener): Server {
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, app);
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

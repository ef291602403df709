import type { Request } from 'express';

// A Host header is the caller's word; only a plain host[:port] is echoed into documents, so
// that a crafted Host cannot inject markup or another scheme into the WSDL.
const PLAIN_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The server's public base URL: PUBLIC_URL when set, else from the request's Host. */
export function publicBaseUrl(req: Request, configured: string | undefined): string {
  if (configured) return configured;
  const host = req.headers.host;
  if (host && PLAIN_HOST.test(host)) return `${req.protocol}://${host}`;
  // No usable Host (HTTP/1.0, or a crafted one): the address the request came in on.
  const address = (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  return `${req.protocol}://${address.includes(':') ? `[${address}]` : address}:${req.socket.localPort}`;
}

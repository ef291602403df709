// The HTTP server the gateway runs in builds requests and responses that already carry
// Express's prototypes, so that Express's per-request Object.setPrototypeOf changes nothing
// (see src/transports/httpServer.ts for why that matters: issue #12's bench measured the
// gateway's calls at about twice the CPU without it). This reaches into how Express works, so
// this test is its guard against Express's next release: it fails when Express gives requests
// or responses any prototype other than the ones they were born with, or when Express's own
// methods stop working on them.
import { expect } from 'chai';
import express from 'express';
import { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpServer } from '../src/transports/httpServer.js';

describe('the HTTP server', () => {
  it("gives each request and response Express's prototypes from birth, which Express then leaves as they are", async () => {
    const app = express();
    const born = new WeakMap<object, object>();
    const inHandler: Array<{ request: boolean; response: boolean }> = [];
    app.get('/ping', (req, res) => {
      inHandler.push({ request: Object.getPrototypeOf(req) === born.get(req), response: Object.getPrototypeOf(res) === born.get(res) });
      res.json({ query: req.query, probe: req.get('x-probe') });
    });
    const server = createHttpServer(app).listen(0, '127.0.0.1');
    const seen: Array<{ request: boolean; response: boolean; node: boolean }> = [];
    // Runs before Express's handler, so it sees the objects as Node built them.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      born.set(req, Object.getPrototypeOf(req) as object);
      born.set(res, Object.getPrototypeOf(res) as object);
      seen.push({
        request: Object.getPrototypeOf(req) === app.request,
        response: Object.getPrototypeOf(res) === app.response,
        node: req instanceof IncomingMessage && res instanceof ServerResponse,
      });
    });
    try {
      await new Promise<void>((resolve) => server.once('listening', resolve));
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/ping?a=1`, {
        headers: { 'x-probe': 'yes' },
      });
      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({ query: { a: '1' }, probe: 'yes' });
      expect(seen).to.deep.equal([{ request: true, response: true, node: true }]);
      expect(inHandler, "Express's own setPrototypeOf changed nothing").to.deep.equal([{ request: true, response: true }]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

import http from 'node:http';
import express from 'express';
const app = express(); app.disable('x-powered-by'); app.set('etag', false);
app.get('/ping', (_req, res) => { res.json({ ok: true, time: new Date().toISOString() }); });
let server;
if (process.env.V === 'trick') {
  function AppRequest(socket) { http.IncomingMessage.call(this, socket); }
  AppRequest.prototype = app.request;
  function AppResponse(req, options) { http.ServerResponse.call(this, req, options); }
  AppResponse.prototype = app.response;
  server = http.createServer({ IncomingMessage: AppRequest, ServerResponse: AppResponse }, app);
} else server = http.createServer(app);
server.listen(Number(process.env.PORT), '127.0.0.1');

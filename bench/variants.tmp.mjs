import http from 'node:http';
import express from 'express';
const v = process.env.V;
let handler;
if (v === 'http2') {
  handler = (req, res) => { const body = JSON.stringify({ ok: true, time: new Date().toISOString() }); res.statusCode = 200; res.setHeader('Content-Type', 'application/json; charset=utf-8'); res.setHeader('Content-Length', Buffer.byteLength(body)); res.end(body, 'utf8'); };
} else if (v === 'expressraw') {
  const app = express(); app.disable('x-powered-by'); app.set('etag', false);
  app.get('/ping', (req, res) => { const body = JSON.stringify({ ok: true, time: new Date().toISOString() }); res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }); res.end(body); });
  handler = app;
} else if (v === 'httpasync') {
  handler = (req, res) => { Promise.resolve().then(() => { const body = JSON.stringify({ ok: true, time: new Date().toISOString() }); res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }); res.end(body); }); };
} else if (v === 'httpimmediate') {
  handler = (req, res) => { setImmediate(() => { const body = JSON.stringify({ ok: true, time: new Date().toISOString() }); res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }); res.end(body); }); };
}
const server = http.createServer(handler);
server.listen(Number(process.env.PORT), '127.0.0.1');

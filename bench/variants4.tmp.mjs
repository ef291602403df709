import http from 'node:http';
import express from 'express';
const app = express(); app.disable('x-powered-by'); app.set('etag', false);
app.get('/ping', (_req, res) => { res.json({ ok: true, time: new Date().toISOString() }); });
function born(base, prototype) { function Born(...args) { return Reflect.construct(base, args, Born); } Born.prototype = prototype; return Born; }
function called(base, prototype) { function Born(...args) { base.apply(this, args); } Born.prototype = prototype; return Born; }
const make = process.env.V === 'reflect' ? born : called;
const server = http.createServer({ IncomingMessage: make(http.IncomingMessage, app.request), ServerResponse: make(http.ServerResponse, app.response) }, app);
server.listen(Number(process.env.PORT), '127.0.0.1');

import http from 'node:http';
const reqProto = Object.create(http.IncomingMessage.prototype);
const resProto = Object.create(http.ServerResponse.prototype);
const v = process.env.V;
const server = http.createServer((req, res) => {
  if (v === 'proto') { Object.setPrototypeOf(req, reqProto); Object.setPrototypeOf(res, resProto); }
  if (v === 'protoreq') { Object.setPrototypeOf(req, reqProto); }
  if (v === 'protores') { Object.setPrototypeOf(res, resProto); }
  const body = JSON.stringify({ ok: true, time: new Date().toISOString() });
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(Number(process.env.PORT), '127.0.0.1');

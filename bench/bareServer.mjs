// The ceiling of this stack on this machine: a bare Express route returning small JSON, no
// authentication, no database, in production mode like the gateway. BARE_SERVER=gateway
// serves it from the gateway's own HTTP server (dist/transports/httpServer.js, whose requests
// are born with Express's prototypes); otherwise as any Express app is served (app.listen).
import express from 'express';

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.get('/ping', (_req, res) => {
  res.json({ ok: true, time: new Date().toISOString() });
});
const port = Number(process.env.PORT ?? 0);
const server =
  process.env.BARE_SERVER === 'gateway'
    ? (await import('../dist/transports/httpServer.js')).createHttpServer(app).listen(port, '127.0.0.1')
    : app.listen(port, '127.0.0.1');
server.once('listening', () => console.log(`bare server listening on port ${server.address().port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));

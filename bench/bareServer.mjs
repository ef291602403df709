// The ceiling of this stack on this machine: a bare Express route returning small JSON,
// no authentication, no database, in production mode like the gateway.
import express from 'express';

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.get('/ping', (_req, res) => {
  res.json({ ok: true, time: new Date().toISOString() });
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`bare server listening on port ${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));

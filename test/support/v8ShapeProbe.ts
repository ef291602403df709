// Run by test/v8Shapes.test.ts in a Node started with --allow-natives-syntax: reports whether
// the objects the hot paths touch most are in V8's fast mode (not its dictionary mode, where
// every property access is a hash lookup). Prints one JSON line.
import express from 'express';
import type { AddressInfo } from 'node:net';
import { httpBasicAuthentication } from '../../src/auth/basicStrategy.js';
import type { CredentialVerifier } from '../../src/auth/credentials.js';
import { createHttpServer } from '../../src/transports/httpServer.js';
import { XmlReader } from '../../src/transports/soap/envelopeReader.js';

const hasFastProperties = new Function('object', 'return %HasFastProperties(object)') as (object: object) => boolean;

const app = express();
const seen: Record<string, boolean> = {};
// Through passport, as every call is: it adds its methods and req.user to each request.
const anyone = { verify: async () => ({ user: {}, account: {} }) } as unknown as CredentialVerifier;
app.get('/probe', httpBasicAuthentication(anyone), (req, res) => {
  seen.request = hasFastProperties(req);
  seen.response = hasFastProperties(res);
  res.json({ ok: true });
});
const server = createHttpServer(app).listen(0, '127.0.0.1');
await new Promise<void>((resolve) => server.once('listening', resolve));
await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/probe`, { headers: { Authorization: `Basic ${btoa('u:p')}` } })).text();
server.closeAllConnections();
server.close();

const reader = new XmlReader();
reader.read('<?xml version="1.0"?><e:Envelope xmlns:e="urn:x"><e:Body><Op xmlns="urn:y">text<![CDATA[more]]></Op></e:Body></e:Envelope>');
try {
  reader.read('<a><b></a>');
} catch {
  // refused, as it should be: the reader goes on with a new parser
}
reader.read('<a/>');
seen.xmlParser = hasFastProperties(reader['parser']);
console.log(JSON.stringify(seen));

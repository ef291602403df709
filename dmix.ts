import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
const good = readFileSync('/tmp/auth.txt', 'utf8').trim(), bad = readFileSync('/tmp/wrong.txt', 'utf8').trim();
await autocannon({ url: 'http://127.0.0.1:28888/v2/account-info', headers: { authorization: good }, connections: 32, duration: 3 });
const b = await autocannon({ url: 'http://127.0.0.1:28888/v2/account-info', headers: { authorization: good }, connections: 32, duration: 6 });
const r = await autocannon({ url: 'http://127.0.0.1:28888', connections: 32, duration: 6, requests: [{ method: 'GET', path: '/v2/account-info', setupRequest: (req: any, ctx: any) => { const sent = (ctx.sent ?? Math.floor(Math.random() * 100)) + 1; ctx.sent = sent; return { ...req, headers: { authorization: sent % 100 === 0 ? bad : good } }; } }] as any });
console.log('b', b.requests.average, 'd', r.requests.average, r.non2xx, JSON.stringify(r.statusCodeStats), 'd/b', (r.requests.average / b.requests.average).toFixed(2));

// What the hot paths touch most stays in V8's fast mode: requests and responses through
// passport and Express (src/transports/httpServer.ts) and the reused XML parser
// (envelopeReader.ts). Either in dictionary mode cost 15-70 % more CPU per call (and without
// the prototypes of httpServer.ts, about twice the CPU: issue #12's bench); this checks the
// cause, not a timing.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('V8 object shapes on the hot path', () => {
  it('keeps requests, responses and the XML parser out of dictionary mode', async () => {
    const child = spawn(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', 'test/support/v8ShapeProbe.ts'], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code, stderr).to.equal(0);
    expect(JSON.parse(stdout)).to.deep.equal({ request: true, response: true, xmlParser: true });
  });
});

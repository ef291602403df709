// Running the product's own entry points as real processes, as an operator would.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript entry point of src/ to its end. */
export function runEntry(entry: string, args: string[], env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = startEntry(entry, args, env);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every process a test started that has not ended yet. */
const running = new Set<ChildProcess>();

export function startEntry(entry: string, args: string[], env: Record<string, string>, nodeOptions: string[] = []): ChildProcess {
  const { MONGODB_URI: _inherited, ...base } = process.env;
  const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', `src/${entry}`, ...args], {
    cwd: ROOT,
    env: { ...base, BCRYPT_COST: '4', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/**
 * Ends what a failed or timed-out test left running (at the end of the run): a gateway that
 * outlived its test would go on loading the machine, and the tests after it.
 */
export function killLeftoverProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Collects a process's output and waits until it prints a line matching `pattern`. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 60_000): Promise<{ match: RegExpExecArray; output: () => string }> {
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = pattern.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ match, output: () => output });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before ${pattern}:\n${output}`));
    });
  });
}

/** The exit code (null when a signal ended it), whether it has ended already or not. */
export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

const LISTENING = /listening on port (\d+)/;
/** The heap bound `npm start` and the Dockerfile run the server with (see package.json). */
const PRODUCTION_NODE_OPTIONS = ['--max-old-space-size=160'];

export interface GatewayProcess {
  child: ChildProcess;
  baseUrl: string;
  /** Everything it has printed so far. */
  output(): string;
}

/** The server entry as a real process (on a free port), once it listens. */
export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const child = startEntry('server.ts', [], { PORT: '0', ...env }, PRODUCTION_NODE_OPTIONS);
  try {
    const started = await waitForOutput(child, LISTENING);
    return { child, baseUrl: `http://127.0.0.1:${started.match[1]}`, output: started.output };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

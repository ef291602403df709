// Probes for load balancers and orchestrators, unauthenticated and cheap: /healthz says the
// process answers; /readyz says it can serve (storage answers a real read, not shutting
// down), from a probe made at most once a second.
//
// A ping is not enough: FerretDB answers `ping` without touching storage, so a store whose
// connections are all held (or a server that hangs) kept /readyz at 200. The probe reads one
// document by _id (an index lookup on every server, the one query FerretDB's SQLite backend
// pushes down), bounded by maxTimeMS on the server and by a timer here.
import type { RequestHandler } from 'express';
import { Types, type Connection } from 'mongoose';
import { errors } from '../errors.js';

const PROBE_EVERY_MS = 1000;
const PROBE_TIMEOUT_MS = 1000;
/** An id no document has: the read finds nothing, cheaply. */
const PROBE_ID = new Types.ObjectId('000000000000000000000000');

export class Health {
  private stopping = false;
  private lastProbe = 0;
  private ready: Promise<boolean> = Promise.resolve(false);

  constructor(private readonly connection: Connection) {}

  /** From now on /readyz answers 503, so that load balancers stop sending calls. */
  draining(): void {
    this.stopping = true;
  }

  /**
   * Once draining, every answer closes its connection (see observeRequests): a client does not
   * send its next call down a kept-alive socket that the stopping server is about to drop
   * (which would fail it mid-flight); it opens a new connection, which the load balancer sends
   * elsewhere.
   */
  get isDraining(): boolean {
    return this.stopping;
  }

  liveness(): RequestHandler {
    return (_req, res) => {
      res.json({ status: 'alive' });
    };
  }

  readiness(): RequestHandler {
    return (_req, res) => {
      void this.isReady().then((ready) => {
        if (ready) {
          res.json({ status: 'ready' });
          return;
        }
        const error = errors.unavailable();
        res.status(503).set(error.headers).json({ message: error.contractMessage });
      });
    };
  }

  private isReady(): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    const now = Date.now();
    if (now - this.lastProbe >= PROBE_EVERY_MS) {
      this.lastProbe = now;
      this.ready = this.probe();
    }
    return this.ready;
  }

  private async probe(): Promise<boolean> {
    const db = this.connection.db;
    if (!db || this.connection.readyState !== 1) return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        db.collection('apiusers').findOne({ _id: PROBE_ID }, { projection: { _id: 1 }, maxTimeMS: PROBE_TIMEOUT_MS }),
        new Promise((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error('the storage probe timed out')), PROBE_TIMEOUT_MS);
        }),
      ]);
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}

// Probes for load balancers and orchestrators, unauthenticated and cheap: /healthz says the
// process answers; /readyz says it can serve (database reachable, not shutting down), from a
// ping made at most once a second.
import type { RequestHandler } from 'express';
import type { Connection } from 'mongoose';
import { errors } from '../errors.js';

const PING_EVERY_MS = 1000;
const PING_TIMEOUT_MS = 1000;

export class Health {
  private stopping = false;
  private lastPing = 0;
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
    if (now - this.lastPing >= PING_EVERY_MS) {
      this.lastPing = now;
      this.ready = this.ping();
    }
    return this.ready;
  }

  private async ping(): Promise<boolean> {
    const db = this.connection.db;
    if (!db || this.connection.readyState !== 1) return false;
    try {
      await Promise.race([
        db.admin().ping(),
        new Promise((_resolve, reject) => setTimeout(() => reject(new Error('ping timed out')), PING_TIMEOUT_MS).unref()),
      ]);
      return true;
    } catch {
      return false;
    }
  }
}

// Prometheus metrics (prom-client), in a registry of this gateway's own (two gateways in one
// process, as in tests, do not mix). Served at GET /metrics to a METRICS_TOKEN bearer only.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DatabaseUnavailableError } from '../errors.js';
import type { LogOutput } from '../logger.js';
import { contractStatus, type CallState } from '../transports/callState.js';

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'dualgate_requests_total',
    help: 'Requests answered, by protocol, operation and status.',
    labelNames: ['protocol', 'operation', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'dualgate_request_duration_seconds',
    help: 'Time to answer a request, by protocol and operation.',
    labelNames: ['protocol', 'operation'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly authFailures = new Counter({ name: 'dualgate_auth_failures_total', help: 'Refused authentications (401).', registers: [this.registry] });
  readonly lockouts = new Counter({ name: 'dualgate_lockouts_total', help: 'API users locked by wrong passwords.', registers: [this.registry] });
  readonly credentialCache = new Counter({
    name: 'dualgate_credential_cache_lookups_total',
    help: 'Password checks the verified-credential cache decided (hit) or left to bcrypt (miss).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly quotaRejections = new Counter({ name: 'dualgate_quota_rejections_total', help: 'Calls refused for a spent hourly quota (429).', registers: [this.registry] });
  readonly bcryptShed = new Counter({
    name: 'dualgate_bcrypt_shed_total',
    help: 'Password checks refused with 503 because the bcrypt queue could not serve them within BCRYPT_QUEUE_MAX_WAIT_MS.',
    registers: [this.registry],
  });
  readonly bcryptBusySeconds = new Counter({
    name: 'dualgate_bcrypt_busy_seconds_total',
    help: 'Time the bcrypt threads had a compare or hash at work, by the clock (its rate: the BCRYPT_POOL_SIZE slots in use on average).',
    registers: [this.registry],
  });
  readonly databaseOperations = new Counter({
    name: 'dualgate_database_operations_total',
    help: 'Commands sent to the database, by command (find, insert, update, delete, getMore, ...).',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });
  readonly databaseErrors = new Counter({ name: 'dualgate_database_errors_total', help: 'Calls answered ERROR_SYSTEM_SERVICETEMPORARILYUNAVAILABLE because the database could not serve them (REST 503, SOAP fault).', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'dualgate_' });
    // Beside the bcrypt threads' busy time: how busy the serving thread is (the default metrics
    // give the event loop's lag, not that). Both are clock time, which includes the time a
    // thread waited for a core: Node 20 has no CPU time per thread.
    new Counter({
      name: 'dualgate_event_loop_busy_seconds_total',
      help: 'Time the serving thread spent running code rather than waiting for I/O (its rate: event loop utilisation, 0 to 1).',
      registers: [this.registry],
      collect() {
        // The loop's own running total, which only grows: the counter is set to it.
        this.reset();
        this.inc(performance.eventLoopUtilization().active / 1000);
      },
    });
    const lookups = this.credentialCache;
    new Gauge({
      name: 'dualgate_credential_cache_hit_ratio',
      help: 'Share of password checks decided by the cache since start.',
      registers: [this.registry],
      async collect() {
        const values = (await lookups.get()).values;
        const count = (result: string) => values.find((value) => value.labels.result === result)?.value ?? 0;
        const total = count('hit') + count('miss');
        this.set(total === 0 ? 0 : count('hit') / total);
      },
    });
  }

  /** Counts every command the database client sends (the client must monitor commands). */
  watchDatabase(client: { on(event: 'commandStarted', listener: (event: { commandName: string }) => void): unknown }): void {
    client.on('commandStarted', (event) => this.databaseOperations.inc({ operation: event.commandName }));
  }

  /** Reports how many bcrypt jobs wait for a slot, read when scraped. */
  watchBcryptQueue(length: () => number): void {
    new Gauge({
      name: 'dualgate_bcrypt_queue_length',
      help: 'Password checks waiting for a bcrypt slot.',
      registers: [this.registry],
      collect() {
        this.set(length());
      },
    });
  }

  /** Reports the log lines dropped because the output was not read fast enough (see logger.ts). */
  watchLogOutput(output: LogOutput): void {
    new Counter({
      name: 'dualgate_log_lines_dropped_total',
      help: 'Log lines dropped because the output was not read as fast as it was written (LOG_BUFFER_MAX_BYTES).',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(output.droppedLines);
      },
    });
  }

  /** Counts and times one answered request. */
  recordAnswer(state: CallState, status: number, seconds: number): void {
    const protocol = state.protocol ?? 'other';
    const operation = state.operation ?? 'none';
    this.requests.inc({ protocol, operation, status: String(status) });
    this.duration.observe({ protocol, operation }, seconds);
    // Only the doors set a protocol: the probes' own 503s are not calls. By the contract's
    // error, not the HTTP status: a SOAP fault is a 500 whatever it says.
    if (!state.protocol) return;
    const answered = contractStatus(state, status);
    if (answered === 401) this.authFailures.inc();
    if (answered === 429) this.quotaRejections.inc();
    // Not a compare shed by the bcrypt queue, also a 503 (dualgate_bcrypt_shed_total counts those).
    if (state.answeredError instanceof DatabaseUnavailableError) this.databaseErrors.inc();
  }

  /** GET /metrics for `Authorization: Bearer <token>`; without a token configured, not served. */
  endpoint(token: string | undefined): RequestHandler {
    const expected = token ? createHash('sha256').update(token).digest() : undefined;
    return (req, res, next) => {
      if (!expected) return next(); // falls through to the 404 of unknown routes
      const offered = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      if (!timingSafeEqual(createHash('sha256').update(offered).digest(), expected)) {
        res.status(401).set('WWW-Authenticate', 'Bearer realm="dualgate-metrics"').json({ message: 'This needs the metrics token. ERROR_INVALID_LOGIN' });
        return;
      }
      this.registry.metrics().then(
        (text) => res.type(this.registry.contentType).send(text),
        (error: unknown) => next(error),
      );
    };
  }
}

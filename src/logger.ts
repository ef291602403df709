// JSON lines on stdout, written asynchronously from a buffer of at most LOG_BUFFER_MAX_BYTES.
//
// Bounded because pino's default destination buffers without limit while stdout is not read (a
// log collector that stalls, a terminal on pause): measured, a gateway serving one integration
// at full speed with nobody reading its stdout went from 164 to 229 MB of RSS in 20 s and was
// aborted out of memory 31 s in, under its 160 MB heap. Past the bound lines are dropped, counted
// (`dualgate_log_lines_dropped_total`), and reported in one warning line once the output is
// read again; the calls go on being served.
import { pino, type Logger } from 'pino';

export interface LogOutput {
  /** Lines dropped since start because the buffer was full. */
  readonly droppedLines: number;
  /**
   * Logs a last line and waits until everything is written, for `timeoutMs` at most; what is
   * still unwritten then is dropped. Without the bound, pino's flush at exit would wait for a
   * reader that does not read for ever (measured: a gateway told to stop while nobody read its
   * stdout never ended).
   */
  end(message: string, timeoutMs: number): Promise<void>;
}

/** Nothing secret is ever passed to the logger; these paths are cut anyway. */
export function createLogger(level: string, maxBufferBytes: number): { logger: Logger; output: LogOutput } {
  const destination = pino.destination({ dest: 1, sync: false, maxLength: maxBufferBytes });
  const logger = pino(
    {
      level,
      base: { service: 'dualgate' },
      redact: { paths: ['password', '*.password', 'passwordHash', '*.passwordHash', 'req.headers.authorization'], censor: '[redacted]' },
    },
    destination,
  );
  const output = {
    droppedLines: 0,
    async end(message: string, timeoutMs: number): Promise<void> {
      // The line just logged is in the buffer (or dropped with a write under way): either way a
      // 'drain' comes once everything has been written.
      logger.info(message);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        destination.once('drain', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      // Marked destroyed, the destination leaves pino's exit hook nothing to wait for.
      destination.destroy();
    },
  };
  let unreported = 0;
  destination.on('drop', () => {
    output.droppedLines += 1;
    unreported += 1;
  });
  // A write went out: the output is read again, and the gap in it is said where it is. A report
  // that finds the buffer still full is dropped too (at once: pino writes synchronously to the
  // buffer), and its lines are said by the next one.
  destination.on('write', () => {
    if (unreported === 0) return;
    const before = output.droppedLines;
    logger.warn({ droppedLines: unreported, maxBufferBytes }, 'log lines dropped: the output was not read as fast as it was written');
    if (output.droppedLines === before) unreported = 0;
  });
  return { logger, output };
}

import { pino, type Logger } from 'pino';

/** JSON lines on stdout. Nothing secret is ever passed to it; these paths are cut anyway. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'dualgate' },
    redact: { paths: ['password', '*.password', 'passwordHash', '*.passwordHash', 'req.headers.authorization'], censor: '[redacted]' },
  });
}

// Every setting, read once from the environment, typed and checked at startup: a bad value
// stops the process with a sentence naming the variable, rather than failing later.
import mongoose from 'mongoose';
import { z } from 'zod';
import { DEFAULT_MAX_QUEUE_WAIT_MS, DEFAULT_NICE, MAX_COST, MIN_COST } from './domain/bcryptDefaults.js';
import { parseAllowlistEntry } from './domain/ipAllowlist.js';

const integer = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return fallback;
      const value = /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number from ${min} to ${max} (got "${raw}")` });
        return z.NEVER;
      }
      return value;
    });

/** One of `values`, `fallback` when unset or empty (as every variable takes empty: compose's `${X:-}`). */
const oneOf = <const T extends readonly [string, ...string[]]>(name: string, values: T, fallback: T[number]) =>
  z.preprocess(
    (raw) => (typeof raw === 'string' && raw.trim() === '' ? undefined : raw),
    z
      .enum(values, { error: `${name} must be one of ${values.join(', ')}` })
      .optional()
      .transform((raw): T[number] => raw ?? fallback),
  );

/** The names proxy-addr (Express's `trust proxy`) knows for ranges of addresses. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * Express's `trust proxy`: which hops' X-Forwarded-For to believe. Unset: none (the socket's
 * address is the client's). A hop count, or a list of proxy addresses, CIDR ranges and
 * proxy-addr's names. `true` (believe every hop) is refused: any client could then name any
 * address, and pass any allowlist.
 */
const trustProxy = z
  .string()
  .optional()
  .transform((raw, ctx): number | string[] | undefined => {
    if (raw === undefined || raw.trim() === '') return undefined;
    const value = raw.trim();
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      if (hops >= 1 && hops <= 10) return hops;
    }
    const entries = value.split(',').map((entry) => entry.trim());
    // A range of every address (0.0.0.0/0, ::/0) is `true` by another name; Express refuses it too.
    const bad = entries.find((entry) => (!PROXY_RANGE_NAMES.includes(entry) && parseAllowlistEntry(entry) === null) || /\/0+$/.test(entry));
    if (bad === undefined && !/^\d+$/.test(value)) return entries;
    ctx.addIssue({
      code: 'custom',
      message: `TRUST_PROXY must be a hop count from 1 to 10 or a comma-separated list of proxy addresses, CIDR ranges, loopback, linklocal or uniquelocal (got "${raw}")`,
    });
    return z.NEVER;
  });

const hostName = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

const environment = z.object({
  PORT: integer('PORT', 0, 65535, 8080),
  HOST: z.string().optional().transform((raw) => (raw && raw.trim() !== '' ? raw.trim() : undefined)),
  MONGODB_URI: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return undefined;
      if (!/^mongodb(\+srv)?:\/\/\S+$/.test(raw.trim())) {
        ctx.addIssue({ code: 'custom', message: 'MONGODB_URI must start with mongodb:// or mongodb+srv://' });
        return z.NEVER;
      }
      // The driver parses a connection string when a client is made, before it connects: a bad
      // port or option fails here, as a setting, not later as a failed start. Its messages name
      // the part at fault, never the password.
      try {
        new mongoose.mongo.MongoClient(raw.trim());
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `MONGODB_URI is not a valid connection string: ${(error as Error).message}` });
        return z.NEVER;
      }
      return raw.trim();
    }),
  PUBLIC_URL: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === '') return undefined;
      let url: URL;
      try {
        url = new URL(raw.trim());
      } catch {
        ctx.addIssue({ code: 'custom', message: `PUBLIC_URL must be an absolute http(s) URL (got "${raw}")` });
        return z.NEVER;
      }
      // A bare '?' or '#' leaves search and hash empty but stays in href (and so in the WSDL's address).
      if (!/^https?:$/.test(url.protocol) || /[?#]/.test(raw) || url.username || url.password) {
        ctx.addIssue({
          code: 'custom',
          message: `PUBLIC_URL must be a plain http(s) base URL without credentials, query or fragment (got "${raw}")`,
        });
        return z.NEVER;
      }
      return url.href.replace(/\/+$/, '');
    }),
  API_USER_DOMAIN: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const value = raw === undefined || raw.trim() === '' ? 'dualgate.local' : raw.trim().toLowerCase();
      if (!hostName.test(value)) {
        ctx.addIssue({ code: 'custom', message: `API_USER_DOMAIN must be a domain name such as api.example.com (got "${raw}")` });
        return z.NEVER;
      }
      return value;
    }),
  BCRYPT_COST: integer('BCRYPT_COST', MIN_COST, MAX_COST, 12),
  BCRYPT_POOL_SIZE: integer('BCRYPT_POOL_SIZE', 0, 256, 0),
  BCRYPT_QUEUE_MAX_WAIT_MS: integer('BCRYPT_QUEUE_MAX_WAIT_MS', 0, 600_000, DEFAULT_MAX_QUEUE_WAIT_MS),
  BCRYPT_NICE: integer('BCRYPT_NICE', 0, 19, DEFAULT_NICE),
  LOCKOUT_THRESHOLD: integer('LOCKOUT_THRESHOLD', 1, 1000, 5),
  // An hour: each active user then costs a process one compare an hour, so a 2-core process at
  // cost 12 keeps some 18,000 users verified on half its CPU (docs/performance.md, "The cost of
  // many users"); at 5 minutes 10,000 users needed 33 compares a second, three times what it can
  // do, and most calls were shed. A reset, disable, lock or delete does not wait for it.
  AUTH_CACHE_TTL_MS: integer('AUTH_CACHE_TTL_MS', 0, 24 * 3_600_000, 3_600_000),
  AUTH_CACHE_MAX: integer('AUTH_CACHE_MAX', 0, 10_000_000, 50_000),
  AUTH_STATE_TTL_MS: integer('AUTH_STATE_TTL_MS', 0, 60_000, 1000),
  LAST_USED_FLUSH_MS: integer('LAST_USED_FLUSH_MS', 0, 60_000, 1000),
  QUOTA_SYNC_MS: integer('QUOTA_SYNC_MS', 0, 60_000, 250),
  DB_OPERATION_TIMEOUT_MS: integer('DB_OPERATION_TIMEOUT_MS', 100, 60_000, 2000),
  REST_BODY_LIMIT_BYTES: integer('REST_BODY_LIMIT_BYTES', 1024, 64 * 1024 * 1024, 100 * 1024),
  SOAP_BODY_LIMIT_BYTES: integer('SOAP_BODY_LIMIT_BYTES', 1024, 64 * 1024 * 1024, 1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: integer('SHUTDOWN_TIMEOUT_MS', 0, 600_000, 10_000),
  LOG_BUFFER_MAX_BYTES: integer('LOG_BUFFER_MAX_BYTES', 65_536, 134_217_728, 16_777_216),
  METRICS_TOKEN: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return undefined;
      if (raw.length < 16 || /\s/.test(raw)) {
        ctx.addIssue({ code: 'custom', message: 'METRICS_TOKEN must be at least 16 characters, without spaces' });
        return z.NEVER;
      }
      return raw;
    }),
  TRUST_PROXY: trustProxy,
  DATA_DIR: z.string().optional().transform((raw) => (raw && raw.trim() !== '' ? raw.trim() : '.data')),
  // Whether a first start on a database without any account creates the Demo account and prints
  // its owner's password: `auto`, only on a database the gateway runs itself (not MONGODB_URI,
  // where that password would land in production's logs).
  DEMO_ACCOUNT: oneOf('DEMO_ACCOUNT', ['auto', 'on', 'off'], 'auto'),
  LOG_LEVEL: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
});

export type Config = z.output<typeof environment>;

export class ConfigError extends Error {}

/** Reads the configuration from an environment (process.env by default); throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = environment.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) =>
      issue.code === 'custom' || issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}.`);
  }
  return result.data;
}

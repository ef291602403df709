// The defaults of the bcrypt settings, in a file of their own so that the configuration
// (src/config.ts) and the hasher (passwords.ts) share them without the configuration loading
// native bcrypt.

/** BCRYPT_QUEUE_MAX_WAIT_MS's default: the longest a compare may expect to wait for its turn. */
export const DEFAULT_MAX_QUEUE_WAIT_MS = 3000;
/** BCRYPT_NICE's default: the lowest priority (see bcryptPool.ts). */
export const DEFAULT_NICE = 19;
/**
 * BCRYPT_BUSY_SHARE_PERCENT's default: while the serving thread is busy, bcrypt jobs are paced
 * to a fifth of one core (see servingLoad.ts). In bench (f) the warm integration then kept a
 * median 0.78 of its rate, against 0.69 without, and new users are still admitted at about one
 * a second at cost 12 (docs/performance.md).
 */
export const DEFAULT_BUSY_SHARE_PERCENT = 20;

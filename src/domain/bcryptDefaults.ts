// The defaults of the bcrypt settings, in a file of their own so that the configuration
// (src/config.ts) and the hasher (passwords.ts) share them without the configuration loading
// native bcrypt.

/** BCRYPT_QUEUE_MAX_WAIT_MS's default: the longest a compare may expect to wait for its turn. */
export const DEFAULT_MAX_QUEUE_WAIT_MS = 3000;
/** BCRYPT_NICE's default: the lowest priority (see bcryptPool.ts). */
export const DEFAULT_NICE = 19;
/** The costs bcrypt takes. */
export const MIN_COST = 4;
export const MAX_COST = 31;

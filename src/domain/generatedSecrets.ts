// Usernames and passwords the system makes up itself.
import { randomBytes, randomInt } from 'node:crypto';
import { passwordPolicyFailures, type PasswordContext } from './passwordPolicy.js';

/** `apiuser-<12 random lowercase hex>@<domain>`, as the contract fixes it. */
export function generateUsername(domain: string): string {
  return `apiuser-${randomBytes(6).toString('hex')}@${domain}`;
}

// No look-alikes (0/O, 1/l/I) and no characters that need quoting in a shell.
const passwordAlphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.!%+=';

/** A 24-character random password that passes the policy (about 143 bits). */
export function generatePassword(context: PasswordContext): string {
  for (;;) {
    let password = '';
    for (let i = 0; i < 24; i++) password += passwordAlphabet[randomInt(passwordAlphabet.length)];
    if (passwordPolicyFailures(password, context).length === 0) return password;
  }
}

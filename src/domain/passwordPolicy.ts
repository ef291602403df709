// The contract's password policy. Every failing rule is reported, not just the first, so a
// caller can fix the password in one try.

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 64;
/** Shorter company names ("AB") would forbid ordinary letter pairs; they are not checked. */
const COMPANY_NAME_MIN_LENGTH = 3;

export interface PasswordContext {
  username: string;
  companyName: string;
}

/** The rules a password breaks, each as the end of "The password is too weak: it …". */
export function passwordPolicyFailures(password: string, context: PasswordContext): string[] {
  const normalised = password.normalize('NFC');
  const lower = normalised.toLowerCase();
  const length = [...normalised].length;
  const failures: string[] = [];
  if (length < PASSWORD_MIN_LENGTH) failures.push(`must be at least ${PASSWORD_MIN_LENGTH} characters long`);
  if (length > PASSWORD_MAX_LENGTH) failures.push(`must be at most ${PASSWORD_MAX_LENGTH} characters long`);
  if (!/[\p{N}]|[^\p{L}\p{N}]/u.test(normalised)) failures.push('must contain at least one digit or non-alphanumeric character');
  const username = context.username.toLowerCase();
  const localPart = username.split('@')[0] ?? username;
  if (username !== '' && lower.includes(username)) failures.push('must not contain the username');
  if (localPart !== '' && lower.includes(localPart)) failures.push('must not contain the part of the username before the @');
  const company = context.companyName.normalize('NFC').trim().toLowerCase();
  if ([...company].length >= COMPANY_NAME_MIN_LENGTH && lower.includes(company)) failures.push('must not contain the company name');
  if (lower.includes('password')) failures.push('must not contain the word "password"');
  return failures;
}

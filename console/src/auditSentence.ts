// An audit event as a sentence: who did what to whom. Pure data (text, usernames and times
// as parts), so the view builds it with textContent only: usernames and details are data,
// never markup. Kinds of events this page does not know yet still read sensibly.
import type { AuditEvent } from './api.js';

export type SentencePart = string | { username: string } | { time: string };

/** The name the gateway gives events of the command line (src/domain/auditTrail.ts). */
const COMMAND_LINE = '(command line)';

/** Who did it: an API user, the command line, or the gateway itself (no actor at all). */
export function actorOf(event: AuditEvent): SentencePart {
  if (event.actorId === null && event.actorUsername === COMMAND_LINE) return 'The command line';
  if (event.actorUsername) return { username: event.actorUsername };
  return 'The gateway';
}

/** The user the event is about, or the account's words when it is about no user. */
function targetOf(event: AuditEvent): SentencePart {
  return event.targetUsername ? { username: event.targetUsername } : 'an API user';
}

const ISO_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/;

/** Details as a trailing remark, when there are any. */
function remark(details: string | null): SentencePart[] {
  return details ? [` (${details})`] : [];
}

export function auditSentence(event: AuditEvent): SentencePart[] {
  const who = actorOf(event);
  const whom = targetOf(event);
  const { details } = event;
  switch (event.type) {
    case 'AccountCreated':
      return [who, ' created the account', ...remark(details)];
    case 'AccountDisabled':
      return [who, ' disabled the account, which locks every API user of it', ...remark(details)];
    case 'AccountEnabled':
      return [who, ' enabled the account (its API users stay locked until their passwords are reset)', ...remark(details)];
    case 'ApiUserCreated':
      return [who, ' created ', whom, ...remark(details)];
    case 'ApiUserUpdated':
      return [who, ' changed ', whom, ...(details ? [`: ${details}`] : [])];
    case 'ApiUserEnabled':
      return [who, ' enabled ', whom, ...remark(details)];
    case 'ApiUserDisabled':
      return [who, ' disabled ', whom, ...remark(details)];
    case 'ApiUserPasswordReset':
      return [who, ' reset the password of ', whom, ...resetRemark(details)];
    case 'ApiUserUnlocked':
      return [who, ' unlocked ', whom, ...unlockRemark(details)];
    case 'ApiUserDeleted':
      return [who, ' deleted ', whom, ...remark(details)];
    case 'ApiUserLocked':
      // The gateway locks, not a person: the sentence is about the user.
      return [capitalised(whom), ...lockRemark(details)];
    case 'ApiUserRefusedByAllowlist': {
      const address = event.clientIp ?? refusedAddress(details);
      // Without an address: the one event that stands for the calls of many (its details say how many).
      if (!address && details) return [capitalised(whom), ` was refused: ${details}`];
      return [capitalised(whom), ` was refused${address ? ` from ${address}` : ''} (not in its IP allowlist)`];
    }
    default:
      return [who, `: ${words(event.type)}`, ...(event.targetUsername ? [' of ', whom] : []), ...remark(details)];
  }
}

/** "5 wrong passwords in a row" reads as "was locked after 5 wrong passwords". */
function lockRemark(details: string | null): SentencePart[] {
  const count = details ? /^(\d+) wrong passwords?/.exec(details)?.[1] : undefined;
  if (count !== undefined) return [` was locked after ${count} wrong password${count === '1' ? '' : 's'}`];
  return [' was locked', ...remark(details)];
}

/** The gateway says "was locked: FailedLogins"; the page says why in words. */
function unlockRemark(details: string | null): SentencePart[] {
  const reason = details ? /^was locked: (\w+)$/.exec(details)?.[1] : undefined;
  if (reason === 'FailedLogins') return [' (it was locked by too many wrong passwords)'];
  if (reason === 'AccountDisabled') return [' (it was locked when the account was disabled)'];
  return remark(details);
}

/** "a call from 203.0.113.9, which is not in the IP allowlist": the address, when no clientIp says it. */
function refusedAddress(details: string | null): string | undefined {
  return details ? /\bfrom ([0-9a-f.:]+)/i.exec(details)?.[1] : undefined;
}

/** A reset that kept the old password working says until when. */
function resetRemark(details: string | null): SentencePart[] {
  const until = details ? ISO_TIME.exec(details)?.[0] : undefined;
  if (until !== undefined) return [' (the old one keeps working until ', { time: until }, ')'];
  return remark(details);
}

function capitalised(part: SentencePart): SentencePart {
  return typeof part === 'string' ? part.charAt(0).toUpperCase() + part.slice(1) : part;
}

/** "ApiUserFrobbed" as "api user frobbed": an unknown type is still read out as words. */
export function words(type: string): string {
  return type
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase();
}

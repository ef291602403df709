// One IP allowlist entry, checked in the browser as the gateway reads it (src/domain/
// ipAllowlist.ts, which uses node:net, not available here): an IPv4 address in dotted decimal
// without leading zeros, an IPv6 address (`::` standing for at least one group, an IPv4 tail
// allowed, no zone id), or either with a /prefix. An IPv4-mapped address (::ffff:192.0.2.7)
// is its IPv4 address, so its prefix counts from 96. The gateway's check stays the authority.

const IPV4_OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)';
const IPV4 = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;
const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;
const PREFIX = /^(?:0|[1-9]\d{0,2})$/;

export function isIpv4(text: string): boolean {
  return IPV4.test(text);
}

/** Groups of an IPv6 address: 8 hex groups, or fewer around one `::`; an IPv4 tail is two. */
export function isIpv6(text: string): boolean {
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')));
  const all = groups.flat();
  let count = all.length;
  const last = all.at(-1);
  // A dotted IPv4 tail may only end the address.
  if (last !== undefined && last.includes('.')) {
    if (!isIpv4(last) || groups.at(-1)?.at(-1) !== last) return false;
    all.pop();
    count += 1;
  }
  if (!all.every((group) => HEX_GROUP.test(group))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}

export type EntryProblem =
  | { kind: 'unreadable' }
  | { kind: 'prefix'; family: 'IPv4' | 'IPv6' | 'IPv4-mapped'; min: number; max: number };

/** Why an entry is not an address or CIDR range, or null when it is one. */
export function entryProblem(entry: string): EntryProblem | null {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const v4 = isIpv4(address);
  if (!v4 && !isIpv6(address)) return { kind: 'unreadable' };
  if (slash === -1) return null;
  const prefixText = entry.slice(slash + 1);
  if (!PREFIX.test(prefixText)) return { kind: 'unreadable' };
  const prefix = Number(prefixText);
  const mapped = MAPPED_IPV4.exec(address)?.[1];
  const range =
    v4 ? ({ family: 'IPv4', min: 0, max: 32 } as const)
    : mapped !== undefined && isIpv4(mapped) ? ({ family: 'IPv4-mapped', min: 96, max: 128 } as const)
    : ({ family: 'IPv6', min: 0, max: 128 } as const);
  return prefix >= range.min && prefix <= range.max ? null : { kind: 'prefix', ...range };
}

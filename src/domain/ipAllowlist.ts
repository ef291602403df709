// An API user's IP allowlist: addresses and CIDR ranges, IPv4 or IPv6, read and matched with
// node:net (isIP, BlockList), not with hand-written address arithmetic. IPv4-mapped IPv6
// addresses (::ffff:192.0.2.7, what a dual-stack socket reports for an IPv4 client) are read
// as the IPv4 address they carry, in entries and in client addresses alike, so that an entry
// 192.0.2.0/24 matches however the socket was opened.
import { BlockList, isIP } from 'node:net';

export const MAX_ALLOWLIST_ENTRIES = 50;

type Family = 'ipv4' | 'ipv6';

interface Range {
  address: string;
  prefix: number;
  family: Family;
}

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** The address as the family it belongs to: an IPv4-mapped IPv6 address is its IPv4 address. */
function plainAddress(address: string): { address: string; family: Family } | null {
  // Zone ids (fe80::1%eth0) name an interface of one host: meaningless in an allowlist, and
  // never part of the address Express reports for a client.
  if (address.includes('%')) return null;
  const version = isIP(address);
  if (version === 4) return { address, family: 'ipv4' };
  if (version !== 6) return null;
  const mapped = MAPPED_IPV4.exec(address)?.[1];
  return mapped !== undefined && isIP(mapped) === 4 ? { address: mapped, family: 'ipv4' } : { address, family: 'ipv6' };
}

/** One entry read, or null when it is neither an address nor a CIDR range. */
export function parseAllowlistEntry(entry: string): Range | null {
  const slash = entry.indexOf('/');
  const plain = plainAddress(slash === -1 ? entry : entry.slice(0, slash));
  if (!plain) return null;
  const bits = plain.family === 'ipv4' ? 32 : 128;
  if (slash === -1) return { ...plain, prefix: bits };
  const prefixText = entry.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(prefixText)) return null;
  let prefix = Number(prefixText);
  // A mapped range (::ffff:192.0.2.0/120) is the IPv4 range of its last 32 bits.
  const mappedRange = plain.family === 'ipv4' && isIP(entry.slice(0, slash)) === 6;
  if (mappedRange) {
    if (prefix < 96 || prefix > 128) return null;
    prefix -= 96;
  }
  return prefix <= bits ? { ...plain, prefix } : null;
}

/** Why an allowlist cannot be stored, as the end of a sentence, or null when it can. */
export function allowlistProblem(given: readonly string[]): string | null {
  const entries = normaliseAllowlist(given);
  if (entries.length > MAX_ALLOWLIST_ENTRIES) return `must hold at most ${MAX_ALLOWLIST_ENTRIES} entries`;
  const bad = entries.find((entry) => parseAllowlistEntry(entry) === null);
  if (bad !== undefined) return `holds ${JSON.stringify(bad)}, which is not an IPv4 or IPv6 address or CIDR range`;
  return null;
}

/** Entries as stored: each trimmed, empty lines and repeats left out, in the order given. */
export function normaliseAllowlist(entries: readonly string[]): string[] {
  return [...new Set(entries.map((entry) => entry.trim()).filter((entry) => entry !== ''))];
}

/** A checked allowlist, ready to match client addresses against. */
export class CompiledAllowlist {
  private readonly ranges = new BlockList();

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const range = parseAllowlistEntry(entry);
      // Stored lists were checked on the way in; an entry that no longer reads admits no one.
      if (range) this.ranges.addSubnet(range.address, range.prefix, range.family);
    }
  }

  /** Whether a client address (as Express reports it: req.ip) lies inside one of the entries. */
  admits(clientIp: string | undefined): boolean {
    const plain = clientIp === undefined ? null : plainAddress(clientIp);
    return plain !== null && this.ranges.check(plain.address, plain.family);
  }
}

const compiled = new WeakMap<readonly string[], CompiledAllowlist>();

/**
 * Whether a user's allowlist lets a call from this address in (an empty list admits every
 * address). Compiled once per list read: user records are replaced, never edited, on change.
 */
export function allowlistAdmits(entries: readonly string[], clientIp: string | undefined): boolean {
  if (entries.length === 0) return true;
  let list = compiled.get(entries);
  if (!list) compiled.set(entries, (list = new CompiledAllowlist(entries)));
  return list.admits(clientIp);
}

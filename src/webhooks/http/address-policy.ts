/**
 * SSRF guard, part 1: a pure classifier of IP addresses (see docs: delivery.md, "Safety (SSRF)").
 *
 * `AddressPolicy.check(ip)` refuses every address that is not plainly a public unicast address
 * (loopback, private, link-local, documentation, ...), including the IPv6 forms that embed such an
 * IPv4 address (IPv4-mapped, IPv4-compatible, IPv4-translated, NAT64, 6to4), unless the operator
 * allowed a CIDR range covering it. Cloud metadata and credential endpoints are refused always.
 *
 * No I/O here: resolving host names and pinning the connection is the HTTP client's job.
 */
import ipaddr from 'ipaddr.js';

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;
type Ip = IPv4 | IPv6;

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

interface Rule {
  name: string;
  cidr: string;
  range: [Ip, number];
}

function rule(name: string, cidr: string): Rule {
  return { name, cidr, range: ipaddr.parseCIDR(cidr) };
}

/** Refused IPv4 ranges, the more specific first (the first match names the reason). */
const IPV4_RULES: readonly Rule[] = [
  rule('unspecified', '0.0.0.0/32'),
  rule('broadcast', '255.255.255.255/32'),
  rule('"this network"', '0.0.0.0/8'),
  rule('private', '10.0.0.0/8'),
  rule('carrier-grade NAT', '100.64.0.0/10'),
  rule('loopback', '127.0.0.0/8'),
  rule('link-local', '169.254.0.0/16'),
  rule('private', '172.16.0.0/12'),
  rule('IETF protocol assignments', '192.0.0.0/24'),
  rule('documentation', '192.0.2.0/24'),
  rule('6to4 relay anycast', '192.88.99.0/24'),
  rule('private', '192.168.0.0/16'),
  rule('benchmarking', '198.18.0.0/15'),
  rule('documentation', '198.51.100.0/24'),
  rule('documentation', '203.0.113.0/24'),
  rule('multicast', '224.0.0.0/4'),
  rule('reserved', '240.0.0.0/4'),
];

/** Refused IPv6 ranges (the forms embedding an IPv4 address are judged by that address instead). */
const IPV6_RULES: readonly Rule[] = [
  rule('unspecified', '::/128'),
  rule('loopback', '::1/128'),
  rule('discard-only', '100::/64'),
  rule('documentation', '2001:db8::/32'),
  rule('documentation', '3fff::/20'),
  rule('unique-local', 'fc00::/7'),
  rule('link-local', 'fe80::/10'),
  rule('site-local (deprecated)', 'fec0::/10'),
  rule('multicast', 'ff00::/8'),
];

/**
 * Instance metadata and credential endpoints: refused even inside an operator-allowed range
 * (an operator allowing 169.254.0.0/16 or 0.0.0.0/0 never means "hand out the instance credentials").
 */
const METADATA: ReadonlyMap<string, string> = new Map([
  ['169.254.169.254', 'cloud metadata (AWS, GCP, Azure, OCI, ...)'],
  ['169.254.170.2', 'cloud metadata (AWS ECS task credentials)'],
  ['169.254.170.23', 'cloud metadata (AWS EKS Pod Identity)'],
  ['100.100.100.200', 'cloud metadata (Alibaba Cloud)'],
  ['fd00:ec2::254', 'cloud metadata (AWS IPv6)'],
  ['fd00:ec2::23', 'cloud metadata (AWS EKS Pod Identity IPv6)'],
  ['fd20:ce::254', 'cloud metadata (GCP IPv6)'],
]);

function inRange(ip: Ip, range: [Ip, number]): boolean {
  return ip.kind() === range[0].kind() && ip.match(range);
}

/** The rule refusing `ip` on its own (not looking into embedded IPv4 addresses), if any. */
function refusingRule(ip: Ip): Rule | undefined {
  const rules = ip.kind() === 'ipv4' ? IPV4_RULES : IPV6_RULES;
  return rules.find((r) => inRange(ip, r.range));
}

const EMBEDDING_RANGES: ReadonlyArray<{ form: string; range: [Ip, number] }> = [
  { form: 'IPv4-mapped', range: ipaddr.parseCIDR('::ffff:0:0/96') },
  { form: 'IPv4-translated', range: ipaddr.parseCIDR('::ffff:0:0:0/96') },
  { form: 'IPv4-compatible', range: ipaddr.parseCIDR('::/96') },
  { form: 'NAT64', range: ipaddr.parseCIDR('64:ff9b::/96') },
  { form: 'NAT64 (local-use)', range: ipaddr.parseCIDR('64:ff9b:1::/48') },
  { form: '6to4', range: ipaddr.parseCIDR('2002::/16') },
];

function v4(bytes: number[], at: readonly number[]): IPv4 {
  return new ipaddr.IPv4(at.map((i) => bytes[i]!));
}

function allZero(bytes: number[], from: number): boolean {
  return bytes.slice(from).every((b) => b === 0);
}

/**
 * The IPv4 addresses an IPv6 address may carry, with the form's name. Usually one; for the
 * local-use NAT64 prefix (RFC 8215) the operator chooses the prefix length, so every RFC 6052
 * layout that fits (bits 64-71 and the suffix zero) is a candidate, and all are judged.
 */
export function embeddedIpv4(ip: IPv6): { form: string; addresses: IPv4[] } | undefined {
  const hit = EMBEDDING_RANGES.find((e) => inRange(ip, e.range));
  if (!hit) return undefined;
  const b = ip.toByteArray();
  if (hit.form === '6to4') return { form: hit.form, addresses: [v4(b, [2, 3, 4, 5])] };
  if (hit.form !== 'NAT64 (local-use)') return { form: hit.form, addresses: [v4(b, [12, 13, 14, 15])] };
  const addresses: IPv4[] = [];
  if (b[8] === 0) {
    if (allZero(b, 11)) addresses.push(v4(b, [6, 7, 9, 10])); // /48
    if (allZero(b, 12)) addresses.push(v4(b, [7, 9, 10, 11])); // /56
    if (allZero(b, 13)) addresses.push(v4(b, [9, 10, 11, 12])); // /64
  }
  addresses.push(v4(b, [12, 13, 14, 15])); // /96, always a candidate
  return { form: hit.form, addresses };
}

// ---------------------------------------------------------------------------------------------
// Parsing host spellings
// ---------------------------------------------------------------------------------------------

/** One part of an IPv4 host as the WHATWG URL standard (and inet_aton) reads it; NaN if not numeric. */
function ipv4Number(part: string): number {
  if (part === '') return NaN;
  if (/^0x[0-9a-f]*$/i.test(part)) return part.length === 2 ? 0 : parseInt(part.slice(2), 16);
  if (/^0[0-7]+$/.test(part)) return parseInt(part.slice(1), 8);
  if (/^[0-9]+$/.test(part)) return /^0[0-9]/.test(part) ? NaN : parseInt(part, 10);
  return NaN;
}

/** IPv4 in any spelling the WHATWG URL parser accepts (127.1, 0x7f.1, 0177.0.0.1, 2130706433, "127.0.0.1."). */
function parseIpv4Loose(host: string): IPv4 | null {
  const parts = host.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 0 || parts.length > 4) return null;
  const numbers = parts.map(ipv4Number);
  if (numbers.some((n) => Number.isNaN(n))) return null;
  const last = numbers.pop()!;
  if (numbers.some((n) => n > 255)) return null;
  if (last >= 256 ** (4 - numbers.length)) return null;
  let value = last;
  numbers.forEach((n, i) => (value += n * 256 ** (3 - i)));
  return new ipaddr.IPv4([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
}

/**
 * IPv6, with a trailing dotted quad rewritten as two hex groups first: ipaddr.js reads "::1.2.3.4"
 * (IPv4-compatible) as "::ffff:1.2.3.4" (IPv4-mapped), which is not the address a socket uses.
 */
function parseIpv6(h: string): IPv6 | null {
  const quad = /(^|:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(%.*)?$/.exec(h);
  if (quad) {
    const o = quad.slice(2, 6).map(Number);
    if (o.some((n) => n > 255) || quad.slice(2, 6).some((p) => p.length > 1 && p.startsWith('0'))) return null;
    const hex = `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
    h = `${h.slice(0, quad.index)}${quad[1]}${hex}${quad[6] ?? ''}`;
  }
  return ipaddr.IPv6.isValid(h) ? ipaddr.IPv6.parse(h) : null;
}

function parseIp(host: string): Ip | null {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) return parseIpv6(h.slice(1, -1));
  if (h.includes(':')) return parseIpv6(h);
  if (h.includes('%')) {
    try {
      h = decodeURIComponent(h);
    } catch {
      return null;
    }
  }
  return parseIpv4Loose(h);
}

/**
 * The host as an IP address in canonical form ("127.0.0.1", "::ffff:7f00:1"), or null when it is
 * a domain name. Understands the odd IPv4 spellings (decimal 2130706433, octal 0177.0.0.1, hex
 * 0x7f.1, short 127.1, a trailing dot) and bracketed IPv6, so the guard is right even for a raw
 * host that no URL parser normalized.
 */
export function parseHostAsIp(host: string): string | null {
  return parseIp(host)?.toString() ?? null;
}

/** Whether the host is an IP address (in any spelling `parseHostAsIp` understands) rather than a name. */
export function isIpLiteral(host: string): boolean {
  return parseIp(host) !== null;
}

/**
 * Parses an operator's comma-separated CIDR list ("127.0.0.0/8,::1/128"); a bare address means a
 * single host (/32 or /128). Returns canonical network/prefix strings. Throws naming a bad entry.
 * Only plain dotted-decimal IPv4 is accepted here: configuration has no business with octal.
 */
export function parseCidrList(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  const result: string[] = [];
  for (const entry of raw.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    result.push(parseCidr(entry));
  }
  return result;
}

function parseCidr(entry: string): string {
  const match = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(entry);
  const address = match?.[1];
  const isV4 = address !== undefined && ipaddr.IPv4.isValidFourPartDecimal(address);
  const v6 = address !== undefined && address.includes(':') && !address.includes('%') ? parseIpv6(address) : null;
  const isV6 = v6 !== null;
  if (!match || !(isV4 || isV6)) {
    throw new Error(`Invalid CIDR range "${entry}": expected an IP address with an optional /prefix, e.g. 10.0.0.0/8 or fd00::/8`);
  }
  const max = isV4 ? 32 : 128;
  const bits = match[2] === undefined ? max : Number(match[2]);
  if (bits > max) throw new Error(`Invalid CIDR range "${entry}": the prefix length must be at most ${max}`);
  const ip: Ip = v6 ?? ipaddr.IPv4.parse(address!);
  const network = isV4
    ? ipaddr.IPv4.networkAddressFromCIDR(`${ip.toString()}/${bits}`)
    : ipaddr.IPv6.networkAddressFromCIDR(`${ip.toString()}/${bits}`);
  return `${network.toString()}/${bits}`;
}

// ---------------------------------------------------------------------------------------------
// The policy
// ---------------------------------------------------------------------------------------------

export class AddressPolicy {
  private readonly allowed: ReadonlyArray<{ cidr: string; range: [Ip, number] }>;

  /** @param allowedCidrs operator-allowed ranges (e.g. from `parseCidrList`); throws on a bad entry. */
  constructor(allowedCidrs: string[]) {
    this.allowed = allowedCidrs.map((c) => parseCidr(c.trim())).map((cidr) => ({ cidr, range: ipaddr.parseCIDR(cidr) }));
  }

  /** Judges one IP address (any spelling `parseHostAsIp` understands). Never throws. */
  check(ip: string): AddressVerdict {
    const addr = parseIp(ip);
    if (!addr) return { allowed: false, reason: `"${ip}" is not an IP address` };
    const shown = addr.toString();

    const embedded = addr.kind() === 'ipv6' ? embeddedIpv4(addr as IPv6) : undefined;
    const candidates: Ip[] = [addr, ...(embedded?.addresses ?? [])];

    // 1. Metadata endpoints: always refused, whatever the operator allowed.
    for (const c of candidates) {
      const what = METADATA.get(c.toString());
      if (what) {
        return {
          allowed: false,
          reason: c === addr ? `${shown} is ${what}` : `${shown} is the ${embedded!.form} form of ${c.toString()}, ${what}`,
        };
      }
    }

    // 2. Operator-allowed ranges.
    const allowedHit = (x: Ip) => this.allowed.some((a) => inRange(x, a.range));
    if (allowedHit(addr)) return { allowed: true };

    // 3. The address's own special-purpose ranges.
    const own = refusingRule(addr);
    if (own) return { allowed: false, reason: `${shown} is ${own.name} (${own.cidr})` };

    // 4. The IPv4 address an IPv6 form carries, judged like that address (so ::ffff:127.0.0.1
    //    passes when 127.0.0.0/8 is allowed).
    for (const inner of embedded?.addresses ?? []) {
      if (allowedHit(inner)) continue;
      const r = refusingRule(inner);
      if (r) {
        return {
          allowed: false,
          reason: `${shown} is the ${embedded!.form} form of ${inner.toString()}, ${r.name} (${r.cidr})`,
        };
      }
    }
    return { allowed: true };
  }
}

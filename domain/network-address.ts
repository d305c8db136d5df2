import ipaddr from 'ipaddr.js';

/**
 * Which IP addresses an outbound webhook may reach: public unicast only. Everything else
 * (loopback, RFC 1918 private, link-local with the cloud metadata endpoint 169.254.169.254,
 * carrier-grade NAT 100.64/10, unique-local fc00::/7, unspecified, multicast, documentation and
 * other reserved blocks) is where a deployment's own services live, and a trigger that sales
 * ops point there would make the worker call them (SSRF). The special ranges are ipaddr.js's;
 * IPv6 forms that carry an IPv4 address (::ffff:a.b.c.d, NAT64 64:ff9b::/96) are judged by that
 * IPv4 address.
 */

/** Blocks that ipaddr.js 1.9 counts as unicast although no public service lives there. */
const moreReservedV4: Record<string, [ipaddr.IPv4, number]> = { benchmarking: ipaddr.IPv4.parseCIDR('198.18.0.0/15') };
const moreReservedV6: Record<string, [ipaddr.IPv6, number]> = {
  // Deprecated IPv4-compatible (::a.b.c.d) and site-local addresses, and the discard prefix.
  ipv4Compatible: ipaddr.IPv6.parseCIDR('::/96'),
  siteLocal: ipaddr.IPv6.parseCIDR('fec0::/10'),
  discard: ipaddr.IPv6.parseCIDR('100::/64'),
};

/** True for an IPv4 or IPv6 literal such as `10.0.0.5` or `::1` (no brackets, no zone). */
export function isIpAddress(value: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(value) || ipaddr.IPv6.isValid(value);
}

/**
 * The kind of non-public range an IP address is in (`loopback`, `private`, `linkLocal`,
 * `uniqueLocal`, `carrierGradeNat`, `unspecified`, `reserved`, ...), or null for a public
 * unicast address. Anything that is not an IP address counts as non-public: callers only ask
 * about resolved or literal addresses, and refusing is the safe answer.
 */
export function nonPublicRange(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'invalid';
  const parsed = embeddedIPv4(ipaddr.parse(address));
  const range = parsed.range();
  if (range !== 'unicast') return range;
  const more = parsed instanceof ipaddr.IPv4 ? ipaddr.subnetMatch(parsed, moreReservedV4, range) : ipaddr.subnetMatch(parsed, moreReservedV6, range);
  return more === 'unicast' ? null : more;
}

/** The IPv4 address an IPv6 address stands for (::ffff:a.b.c.d, NAT64 64:ff9b::/96), else the address itself. */
function embeddedIPv4(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  if (address instanceof ipaddr.IPv4) return address;
  const range = address.range();
  if (range === 'ipv4Mapped') return address.toIPv4Address();
  // NAT64: the translator connects to the IPv4 address in the last 32 bits.
  if (range === 'rfc6052') return new ipaddr.IPv4(address.toByteArray().slice(12));
  return address;
}

/** Host names that always mean this machine (RFC 6761), whatever DNS says. */
export function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

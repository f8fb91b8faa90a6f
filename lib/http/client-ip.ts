// Who is on the other end of a request. Not "server-only": server.ts uses it before Next sees
// the request. X-Forwarded-For is believed only when the direct peer is a trusted proxy;
// otherwise anyone could claim any address and dodge per-IP limits.
import ipaddr from "ipaddr.js";

export const CLIENT_IP_HEADER = "x-gatehouse-client-ip";
/** Approximate place of the client, copied from GATEHOUSE_LOCATION_HEADER of a trusted proxy. */
export const CLIENT_LOCATION_HEADER = "x-gatehouse-client-location";
/** The path and query the browser asked for (layouts cannot see it otherwise). */
export const REQUEST_PATH_HEADER = "x-gatehouse-request-path";

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

export function parseTrustedProxies(list: string): Cidr[] {
  return list
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => (entry.includes("/") ? ipaddr.parseCIDR(entry) : hostCidr(entry)));
}

function hostCidr(address: string): Cidr {
  const ip = ipaddr.parse(address);
  return [ip, ip.kind() === "ipv4" ? 32 : 128];
}

function normalize(address: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (!ipaddr.isValid(address)) return null;
  const ip = ipaddr.parse(address);
  return ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}

/**
 * The one written form of an address (IPv4-mapped IPv6 as IPv4, IPv6 compressed in lower case),
 * as resolveClientIp gives it: what the audit trail stores and searches. Null when not an address.
 */
export function canonicalIp(address: string): string | null {
  return normalize(address)?.toString() ?? null;
}

function isTrusted(ip: ipaddr.IPv4 | ipaddr.IPv6, proxies: Cidr[]): boolean {
  return proxies.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits));
}

/**
 * The client's address: the socket peer, or, walking X-Forwarded-For from the right, the first
 * address that is not a trusted proxy.
 */
export function resolveClientIp(peer: string | undefined, forwardedFor: string | undefined, proxies: Cidr[]): string | null {
  let current = peer ? normalize(peer) : null;
  if (!current) return null;
  const hops = (forwardedFor ?? "").split(",").map((h) => h.trim()).filter(Boolean);
  while (isTrusted(current, proxies) && hops.length > 0) {
    const next = normalize(hops.pop()!);
    if (!next) break;
    current = next;
  }
  return current.toString();
}

/** True when the socket peer is one of the trusted proxies (so its headers may be believed). */
export function isTrustedPeer(peer: string | undefined, proxies: Cidr[]): boolean {
  const ip = peer ? normalize(peer) : null;
  return !!ip && isTrusted(ip, proxies);
}

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

export type Network = { network: ipaddr.IPv4 | ipaddr.IPv6; bits: number };

/**
 * An address or a CIDR range as a person typed it, as its network and prefix length: IPv4 written
 * out in full (ipaddr.js also reads "203.0.113" as 203.0.0.113, which whoever typed it surely
 * meant as a network), IPv4-mapped IPv6 as IPv4 (as client addresses are kept). Null if neither.
 */
export function parseNetwork(text: string): Network | null {
  const [written, prefix, ...rest] = text.split("/");
  if (rest.length || (!ipaddr.IPv4.isValidFourPartDecimal(written!) && !ipaddr.IPv6.isValid(written!))) return null;
  let address = ipaddr.parse(written!);
  let bits = address.kind() === "ipv4" ? 32 : 128;
  if (prefix !== undefined) {
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) return null;
    bits = Number(prefix);
  }
  if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    if (bits < 96) return null;
    [address, bits] = [(address as ipaddr.IPv6).toIPv4Address(), bits - 96];
  }
  const network = address.kind() === "ipv4" ? ipaddr.IPv4.networkAddressFromCIDR(`${address}/${bits}`) : ipaddr.IPv6.networkAddressFromCIDR(`${address}/${bits}`);
  return { network, bits };
}

function isTrusted(ip: ipaddr.IPv4 | ipaddr.IPv6, proxies: Cidr[]): boolean {
  return proxies.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits));
}

/**
 * A hop of X-Forwarded-For as an address. Some proxies write the client's port too (Azure's
 * Application Gateway: "203.0.113.9:51234"; IPv6 as "[2001:db8::1]:443"): read without it, or
 * every client would look like the proxy itself.
 */
function hopAddress(hop: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed) return normalize(bracketed[1]!);
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(hop);
  return normalize(withPort ? withPort[1]! : hop);
}

let unreadableHopLogged = false;

/**
 * The client's address: the socket peer, or, walking X-Forwarded-For from the right, the first
 * address that is not a trusted proxy. A hop a trusted proxy wrote that is no address at all stops
 * the walk at that proxy (logged once: every client behind it then shares its address).
 */
export function resolveClientIp(peer: string | undefined, forwardedFor: string | undefined, proxies: Cidr[]): string | null {
  let current = peer ? normalize(peer) : null;
  if (!current) return null;
  const hops = (forwardedFor ?? "").split(",").map((h) => h.trim()).filter(Boolean);
  while (isTrusted(current, proxies) && hops.length > 0) {
    const next = hopAddress(hops.pop()!);
    if (!next) {
      if (!unreadableHopLogged) console.warn(`[client-ip] a trusted proxy (${current}) sent an X-Forwarded-For hop that is not an address: clients behind it are taken as the proxy itself`);
      unreadableHopLogged = true;
      break;
    }
    current = next;
  }
  return current.toString();
}

/** True when the socket peer is one of the trusted proxies (so its headers may be believed). */
export function isTrustedPeer(peer: string | undefined, proxies: Cidr[]): boolean {
  const ip = peer ? normalize(peer) : null;
  return !!ip && isTrusted(ip, proxies);
}

import "server-only";
import { lookup as systemLookup, type LookupAddress, type LookupAllOptions } from "node:dns";
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import ipaddr from "ipaddr.js";
import { readConfig } from "../config";

// Where Gatehouse's server may send requests an admin aimed: incident webhooks (lib/incidents) and
// apps' back-channel logout URIs (lib/oidc). An admin picks the URL and the receiver's answer shows
// on the incident timeline or in the trail, so an unchecked URL would let Gatehouse probe its own network (cloud metadata,
// databases, admin panels) for whoever holds an admin session. Only public unicast addresses are
// reached, unless GATEHOUSE_WEBHOOK_ALLOWED_HOSTS names the host or its network. Every address DNS
// gives is checked when the connection is made, and the connection goes to an address checked
// there: a name that answers differently than when the channel was saved (DNS rebinding) gains
// nothing.

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type AllowList = { names: Set<string>; ranges: [Address, number][] };

/** dns.lookup asked for every address; tests give their own answers. */
export type Resolver = (hostname: string, options: LookupAllOptions, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

export class DestinationRefusedError extends Error {}

/** The configured exceptions, read on each use: the setting can change between sends. */
function allowList(): AllowList {
  const names = new Set<string>();
  const ranges: [Address, number][] = [];
  for (const entry of readConfig().GATEHOUSE_WEBHOOK_ALLOWED_HOSTS) {
    if (entry.includes("/")) ranges.push(ipaddr.parseCIDR(entry));
    else if (ipaddr.isValid(entry)) ranges.push(hostRange(ipaddr.process(entry)));
    else names.add(entry);
  }
  return { names, ranges };
}

const hostRange = (ip: Address): [Address, number] => [ip, ip.kind() === "ipv4" ? 32 : 128];

const RANGE_NAMES: Record<string, string> = {
  loopback: "a loopback address", private: "a private address", uniqueLocal: "a unique-local address", linkLocal: "a link-local address",
  carrierGradeNat: "a carrier-grade NAT address", unspecified: "the unspecified address", multicast: "a multicast address",
  broadcast: "the broadcast address", reserved: "a reserved (documentation or testing) address",
};
// Special-purpose IPv6 prefixes ipaddr.js counts as unicast: IPv4-compatible addresses (deprecated;
// they carry an IPv4 address) and the local-use NAT64 prefix, which translates to any IPv4 address.
const NOT_PUBLIC_IPV6 = [ipaddr.IPv6.parseCIDR("::/96"), ipaddr.IPv6.parseCIDR("64:ff9b:1::/48")];
const NAT64 = ipaddr.IPv6.parseCIDR("64:ff9b::/96");

/** The address a packet to this one really reaches: IPv4-mapped and well-known NAT64 addresses carry an IPv4 address. */
function effectiveAddress(address: string): Address {
  const parsed = ipaddr.process(address);
  if (parsed.kind() === "ipv6" && parsed.match(NAT64)) return new ipaddr.IPv4(parsed.toByteArray().slice(12));
  return parsed;
}

/** Is this address in a network GATEHOUSE_WEBHOOK_ALLOWED_HOSTS lists? */
const inListedRange = (ip: Address, allowed: AllowList) => allowed.ranges.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits));

/** What keeps a webhook from this address ("a private address"), or null when it may connect. */
function refusedKind(address: string, allowed: AllowList): string | null {
  const ip = effectiveAddress(address);
  if (inListedRange(ip, allowed)) return null;
  const range = ip.range();
  if (range !== "unicast") return RANGE_NAMES[range] ?? "a special-purpose address";
  return ip.kind() === "ipv6" && NOT_PUBLIC_IPV6.some((prefix) => ip.match(prefix)) ? "a special-purpose address" : null;
}

// Names that only mean something inside a network: localhost (RFC 6761), mDNS .local (RFC 6762),
// .internal (reserved for private use; metadata.google.internal), home.arpa (RFC 8375), and
// single labels, which the resolver's search domains complete into internal names.
const INTERNAL_NAME = /(^[^.]+|\.localhost|\.local|\.internal|\.localdomain|\.home\.arpa)$/;

const bare = (hostname: string) => hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase();

/**
 * Why a webhook may not go to this host (a URL's hostname: a name or a literal address), judged
 * without DNS; null when it may try. For a name, the addresses it resolves to are checked at send.
 */
export function hostRefusal(hostname: string): string | null {
  const host = bare(hostname);
  const allowed = allowList();
  if (allowed.names.has(host)) return null;
  if (ipaddr.isValid(host)) {
    const kind = refusedKind(host, allowed);
    return kind && `${host} is ${kind}`;
  }
  return INTERNAL_NAME.test(host) ? `${host} is an internal name` : null;
}

/** Does GATEHOUSE_WEBHOOK_ALLOWED_HOSTS list this host (a name, or an address in a listed network)? An internal receiver an operator vouched for. */
export function listedInternalHost(hostname: string): boolean {
  const host = bare(hostname);
  const allowed = allowList();
  if (allowed.names.has(host)) return true;
  return ipaddr.isValid(host) && inListedRange(effectiveAddress(host), allowed);
}

/** A lookup for net.connect that fails the whole name when any of its addresses is refused, so the socket can only reach checked ones. */
export function checkedLookup(resolve: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, "");
      if (!addresses.length) return callback(new Error(`${hostname} has no address`), "");
      const allowed = allowList();
      const refused = allowed.names.has(bare(hostname)) ? null : addresses.map((a) => refusedKind(a.address, allowed)).find(Boolean);
      // Which kind, not which address: the timeline is no place to map internal DNS.
      if (refused) return callback(new DestinationRefusedError(`${hostname} resolves to ${refused}`), "");
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/**
 * POSTs to a webhook receiver once the destination passes, and answers its status. Redirects are
 * not followed (a 3xx is an answer like any other): they could lead anywhere. No connection pool:
 * every request makes its own connection, through the checked lookup.
 */
export function postToWebhook(url: URL, headers: Record<string, string>, body: string, timeoutMs: number, resolve: Resolver = systemLookup): Promise<number> {
  const refusal = hostRefusal(url.hostname);
  // A literal address never goes through the lookup: it is judged here.
  if (refusal) return Promise.reject(new DestinationRefusedError(refusal));
  return new Promise((settle, fail) => {
    const request = (url.protocol === "https:" ? https : http).request(url, {
      method: "POST", headers: { ...headers, "content-length": Buffer.byteLength(body) }, agent: false, lookup: checkedLookup(resolve), signal: AbortSignal.timeout(timeoutMs),
    }, (response) => {
      settle(response.statusCode ?? 0);
      // Only the status is reported; the body is not read.
      response.destroy();
    });
    request.on("error", (error) => fail(error.name === "AbortError" ? new Error(`no answer within ${timeoutMs / 1000} s`) : error));
    request.end(body);
  });
}

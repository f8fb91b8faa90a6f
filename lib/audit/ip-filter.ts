import "server-only";
import ipaddr from "ipaddr.js";
import { parseNetwork } from "../http/client-ip";
import { ipSearchHash } from "./record";

// The trail stores client addresses encrypted, with a keyed hash (blind index) for exact search.
// A range is searched by hashing each address in it, which is why a range is kept small:
// 4,096 addresses hash in a few milliseconds and stay one index lookup each.
export const MAX_IP_RANGE_ADDRESSES = 4096;

const HOW_TO = "Enter an IP address (203.0.113.5) or a range of up to 4,096 addresses (203.0.113.0/24, 2001:db8::/116).";

/**
 * The IP filter as a person typed it, in the one written form the trail uses: an address
 * ("2001:DB8::0001" → "2001:db8::1", "::ffff:203.0.113.5" → "203.0.113.5") or a range as its
 * network and prefix length ("203.0.113.77/24" → "203.0.113.0/24"). An error says what to type.
 */
export function canonicalIpFilter(text: string): { filter: string } | { error: string } {
  const parsed = parseNetwork(text);
  if (!parsed) return { error: HOW_TO };
  const hostBits = (parsed.network.kind() === "ipv4" ? 32 : 128) - parsed.bits;
  if (2 ** hostBits > MAX_IP_RANGE_ADDRESSES) {
    return { error: `A range can hold at most 4,096 addresses (/20 or longer for IPv4, /116 or longer for IPv6): addresses are stored encrypted, so each one in the range is looked up.` };
  }
  return { filter: hostBits === 0 ? parsed.network.toString() : `${parsed.network}/${parsed.bits}` };
}

/** The blind indexes a canonical filter matches: one for an address, one per address of a range. */
export function ipFilterHashes(filter: string): string[] {
  const slash = filter.indexOf("/");
  if (slash < 0) return [ipSearchHash(filter)];
  const network = ipaddr.parse(filter.slice(0, slash)).toByteArray();
  const count = 2 ** (network.length * 8 - Number(filter.slice(slash + 1)));
  const hashes: string[] = [];
  for (let offset = 0; offset < count; offset++) {
    const bytes = [...network];
    // Add the offset to the address's low bytes (at most 12 bits, so at most two bytes carry).
    for (let i = bytes.length - 1, carry = offset; carry > 0 && i >= 0; i--) {
      const sum = bytes[i]! + (carry & 0xff);
      bytes[i] = sum & 0xff;
      carry = (carry >> 8) + (sum >> 8);
    }
    hashes.push(ipSearchHash(ipaddr.fromByteArray(bytes).toString()));
  }
  return hashes;
}

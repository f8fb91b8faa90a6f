// Keys from the environment, parsed once. Not "server-only": the server, CLI scripts and
// tests load them too. Formats (all base64url or base64):
//   GATEHOUSE_ENCRYPTION_KEYS  "kid:key,kid:key"  32-byte AES keys; the first encrypts, all decrypt
//   GATEHOUSE_INDEX_KEY        32-byte HMAC key for searchable hashes of encrypted fields
//   GATEHOUSE_SIGNING_KEY      Ed25519 private key, PKCS#8 DER
//   GATEHOUSE_SIGNING_PREVIOUS_KEYS  optional: "spki,spki" retired Ed25519 public keys, newest first
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";

export type PublicSigningKey = { id: string; publicKey: KeyObject };

export type KeyRing = {
  encryption: { current: { id: string; key: Buffer }; byId: Map<string, Buffer> };
  index: Buffer;
  /** The key that signs now, and the retired ones whose signatures still verify (newest first). */
  signing: PublicSigningKey & { privateKey: KeyObject; retired: PublicSigningKey[] };
};

function decodeKey(value: string, what: string): Buffer {
  const key = Buffer.from(value, "base64url");
  if (key.length !== 32) throw new Error(`${what} must be 32 bytes, base64-encoded`);
  return key;
}

export function parseEncryptionKeys(value: string): KeyRing["encryption"] {
  const entries = value.split(",").map((entry) => {
    const [id, key] = entry.trim().split(":");
    if (!id || !key || !/^[\w-]{1,32}$/.test(id)) throw new Error("GATEHOUSE_ENCRYPTION_KEYS must look like kid:base64key[,kid:base64key]");
    return [id, decodeKey(key, `Encryption key ${id}`)] as const;
  });
  // Two keys under one id: values written under the first would be read with the last, and fail.
  const repeated = entries.map(([id]) => id).find((id, i, ids) => ids.indexOf(id) !== i);
  if (repeated) throw new Error(`GATEHOUSE_ENCRYPTION_KEYS names the key id ${repeated} twice: give each key its own id`);
  return { current: { id: entries[0]![0], key: entries[0]![1] }, byId: new Map(entries) };
}

export function parseSigningKey(value: string, retired = ""): KeyRing["signing"] {
  const privateKey = createPrivateKey({ key: Buffer.from(value, "base64url"), format: "der", type: "pkcs8" });
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error("GATEHOUSE_SIGNING_KEY must be an Ed25519 key");
  const publicKey = createPublicKey(privateKey);
  return { id: signingKeyId(publicKey), privateKey, publicKey, retired: parseRetiredSigningKeys(retired) };
}

function parseRetiredSigningKeys(value: string): PublicSigningKey[] {
  return value.split(",").map((entry) => entry.trim()).filter(Boolean).map((entry, i) => {
    let publicKey: KeyObject | undefined;
    try {
      publicKey = createPublicKey({ key: Buffer.from(entry, "base64url"), format: "der", type: "spki" });
    } catch {
      // reported below
    }
    if (publicKey?.asymmetricKeyType !== "ed25519") throw new Error(`GATEHOUSE_SIGNING_PREVIOUS_KEYS: entry ${i + 1} is not an Ed25519 public key (SPKI DER, base64url)`);
    return { id: signingKeyId(publicKey), publicKey };
  });
}

/** The public key with this id, if it signs now or signed before a rotation. */
export function trustedSigningKey(id: string, signing: KeyRing["signing"] = keyRing().signing): PublicSigningKey | undefined {
  return [signing, ...signing.retired].find((key) => key.id === id);
}

const newSigningKey = () => generateKeyPairSync("ed25519").privateKey.export({ format: "der", type: "pkcs8" }).toString("base64url");

const exportPublicKey = (publicKey: KeyObject) => publicKey.export({ format: "der", type: "spki" }).toString("base64url");

/**
 * A rotation of the signing key: a new private key, and the current one's public half put first
 * among the retired keys, so what it signed still verifies. Returns the two variables' new values.
 */
export function rotateSigningKeyEnv(current: string, retired = ""): Record<"GATEHOUSE_SIGNING_KEY" | "GATEHOUSE_SIGNING_PREVIOUS_KEYS", string> {
  const signing = parseSigningKey(current, retired);
  return {
    GATEHOUSE_SIGNING_KEY: newSigningKey(),
    GATEHOUSE_SIGNING_PREVIOUS_KEYS: [signing, ...signing.retired].map((key) => exportPublicKey(key.publicKey)).join(","),
  };
}

/** A short, stable id for a public key: the first 16 hex digits of SHA-256 over its SPKI. */
export function signingKeyId(publicKey: KeyObject): string {
  return createHash("sha256").update(publicKey.export({ format: "der", type: "spki" })).digest("hex").slice(0, 16);
}

let ring: KeyRing | undefined;

/** The keys, parsed at first use: they change with a restart (every encryption asks, so nothing more is read here). */
export function keyRing(): KeyRing {
  return (ring ??= loadKeyRing());
}

/** Parses the key variables (again): at first use, and in tests that change keys as a restart would. */
export function loadKeyRing(env: NodeJS.ProcessEnv = process.env): KeyRing {
  const { GATEHOUSE_ENCRYPTION_KEYS: enc, GATEHOUSE_INDEX_KEY: idx, GATEHOUSE_SIGNING_KEY: sig, GATEHOUSE_SIGNING_PREVIOUS_KEYS: retired } = env;
  if (!enc || !idx || !sig) {
    throw new Error("GATEHOUSE_ENCRYPTION_KEYS, GATEHOUSE_INDEX_KEY and GATEHOUSE_SIGNING_KEY must be set (see README).");
  }
  ring = { encryption: parseEncryptionKeys(enc), index: decodeKey(idx, "GATEHOUSE_INDEX_KEY"), signing: parseSigningKey(sig, retired) };
  return ring;
}

/** Fresh values for every key variable (quick start, tests, `npm run keys:generate`). */
export function generateKeyEnv(): Record<"GATEHOUSE_ENCRYPTION_KEYS" | "GATEHOUSE_INDEX_KEY" | "GATEHOUSE_SIGNING_KEY", string> {
  // The date says when; the random part keeps two keys made the same day apart.
  const kid = `k${new Date().toISOString().slice(0, 10).replaceAll("-", "")}-${randomBytes(3).toString("hex")}`;
  return {
    GATEHOUSE_ENCRYPTION_KEYS: `${kid}:${randomBytes(32).toString("base64url")}`,
    GATEHOUSE_INDEX_KEY: randomBytes(32).toString("base64url"),
    GATEHOUSE_SIGNING_KEY: newSigningKey(),
  };
}

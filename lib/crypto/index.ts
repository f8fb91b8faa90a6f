// Encryption at rest, searchable hashes and signatures. Not "server-only" (see keys.ts).
import { createCipheriv, createDecipheriv, createHmac, randomBytes, sign, timingSafeEqual, verify, type KeyObject } from "node:crypto";
import { keyRing } from "./keys";

export { keyRing, loadKeyRing, generateKeyEnv, signingKeyId, parseSigningKey, trustedSigningKey, rotateSigningKeyEnv, type PublicSigningKey } from "./keys";

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM under the current key. Output: "kid.iv.ciphertext.tag" (base64url parts), so a
 * value names the key that decrypts it and keys can rotate. `context` (e.g. "audit.ip") is bound
 * as associated data: a ciphertext moved to another field does not decrypt.
 */
export function encrypt(plaintext: string, context: string): string {
  const { id, key } = keyRing().encryption.current;
  const iv = freshIv();
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(context));
  const head = cipher.update(plaintext, "utf8");
  const tail = cipher.final(); // empty for GCM, a stream mode
  const body = tail.length === 0 ? head : Buffer.concat([head, tail]);
  return `${id}.${iv.toString("base64url")}.${body.toString("base64url")}.${cipher.getAuthTag().toString("base64url")}`;
}

// IVs are cut from a block of CSPRNG output rather than drawn one by one: randomBytes(12) costs
// as much as the rest of an encryption (3.4 of ~13 µs, two encryptions per audit event). IVs are
// public, so the block holds nothing secret; each IV is used once.
const IV_BLOCK = 4096;
let ivBlock = Buffer.alloc(0);
let ivOffset = 0;
function freshIv(): Buffer {
  if (ivOffset + IV_BYTES > ivBlock.length) {
    ivBlock = randomBytes(IV_BLOCK);
    ivOffset = 0;
  }
  ivOffset += IV_BYTES;
  return ivBlock.subarray(ivOffset - IV_BYTES, ivOffset);
}

// Contexts are a handful of constants ("audit.ip", …): their bytes are made once (a few dozen at
// most are kept, should a caller ever pass others).
const contextBytes = new Map<string, Buffer>();
function associatedData(context: string): Buffer {
  const known = contextBytes.get(context);
  if (known) return known;
  const bytes = Buffer.from(context);
  if (contextBytes.size < 64) contextBytes.set(context, bytes);
  return bytes;
}

/** Decrypts what `encrypt` sealed under `context`, with the key it names (among `keys`: the key ring's by default). */
export function decrypt(sealed: string, context: string, keys: ReadonlyMap<string, Uint8Array> = keyRing().encryption.byId): string {
  const [id, iv, body, tag] = sealed.split(".");
  const key = id ? keys.get(id) : undefined;
  if (!key || iv === undefined || body === undefined || tag === undefined) throw new Error("Cannot decrypt: unknown key or malformed value");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"), { authTagLength: TAG_BYTES });
  decipher.setAAD(associatedData(context));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
}

/** A keyed hash for exact-match search on an encrypted field (a "blind index"). */
export function blindIndex(value: string, context: string): string {
  return createHmac("sha256", keyRing().index).update(`${context}\0${value}`).digest("hex");
}

export function signDetached(data: Buffer | string): { keyId: string; signature: string } {
  const { id, privateKey } = keyRing().signing;
  return { keyId: id, signature: sign(null, Buffer.from(data), privateKey).toString("base64url") };
}

export function verifyDetached(data: Buffer | string, signature: string, publicKey: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(data), publicKey, Buffer.from(signature, "base64url"));
  } catch {
    return false;
  }
}

/** Constant-time comparison of two hex or base64 strings. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

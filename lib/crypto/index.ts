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
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return [id, iv.toString("base64url"), body.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
}

/** Decrypts what `encrypt` sealed under `context`, with the key it names (among `keys`: the key ring's by default). */
export function decrypt(sealed: string, context: string, keys: ReadonlyMap<string, Uint8Array> = keyRing().encryption.byId): string {
  const [id, iv, body, tag] = sealed.split(".");
  const key = id ? keys.get(id) : undefined;
  if (!key || iv === undefined || body === undefined || tag === undefined) throw new Error("Cannot decrypt: unknown key or malformed value");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"), { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(context));
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

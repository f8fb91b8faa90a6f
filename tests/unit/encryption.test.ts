import { describe, expect, it } from "vitest";
import { decrypt, encrypt } from "@/lib/crypto";
import { generateKeyEnv, parseEncryptionKeys } from "@/lib/crypto/keys";

describe("encryption at rest (AES-256-GCM)", () => {
  it("gives every value its own IV, well past one block of pooled randomness, and each opens to what was sealed", () => {
    // 1,000 IVs of 12 bytes span three 4 KiB blocks of CSPRNG output.
    const sealed = Array.from({ length: 1000 }, (_, i) => encrypt(`198.51.100.${i % 256}`, "audit.ip"));
    const ivs = sealed.map((value) => value.split(".")[1]);
    expect(new Set(ivs).size).toBe(sealed.length);
    expect(ivs.every((iv) => Buffer.from(iv!, "base64url").length === 12)).toBe(true);
    expect(sealed.map((value) => decrypt(value, "audit.ip"))).toEqual(sealed.map((_, i) => `198.51.100.${i % 256}`));
  });

  it("binds the context, and refuses a changed byte", () => {
    const sealed = encrypt("Mozilla/5.0 é 😀", "audit.user_agent");
    expect(decrypt(sealed, "audit.user_agent")).toBe("Mozilla/5.0 é 😀");
    expect(() => decrypt(sealed, "audit.ip")).toThrow();
    const [id, iv, body, tag] = sealed.split(".");
    const flipped = Buffer.from(body!, "base64url");
    flipped[0]! ^= 1;
    expect(() => decrypt([id, iv, flipped.toString("base64url"), tag].join("."), "audit.user_agent")).toThrow();
  });

  it("refuses two keys under one id, and generates ids that two keys made the same day do not share", () => {
    const [a, b] = [generateKeyEnv().GATEHOUSE_ENCRYPTION_KEYS, generateKeyEnv().GATEHOUSE_ENCRYPTION_KEYS];
    const [idA, idB] = [a.split(":")[0]!, b.split(":")[0]!];
    expect(idA).not.toBe(idB);
    expect(parseEncryptionKeys(`${b},${a}`).current.id).toBe(idB);
    const sameId = `${idA}:${b.split(":")[1]},${a}`;
    expect(() => parseEncryptionKeys(sameId)).toThrow(`names the key id ${idA} twice`);
  });
});

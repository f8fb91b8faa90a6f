import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { generateKeyEnv, loadKeyRing, rotateSigningKeyEnv, trustedSigningKey } from "@/lib/crypto/keys";
import { applyLocalSecrets, rotateLocalSigningKey } from "@/lib/local-secrets";

const envFrom = (dataDir: string) => {
  const env = {} as NodeJS.ProcessEnv;
  applyLocalSecrets(dataDir, env);
  return env;
};

it("the quick start's first start has no retired keys: the variable stays unset, not the string \"undefined\"", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "gatehouse-keys-"));
  const saved = process.env.GATEHOUSE_SIGNING_PREVIOUS_KEYS;
  delete process.env.GATEHOUSE_SIGNING_PREVIOUS_KEYS;
  try {
    applyLocalSecrets(dataDir, process.env); // as server.ts does, on the real process.env
    expect(process.env.GATEHOUSE_SIGNING_PREVIOUS_KEYS).toBeUndefined();
    expect(loadKeyRing().signing.retired).toEqual([]);
  } finally {
    if (saved !== undefined) process.env.GATEHOUSE_SIGNING_PREVIOUS_KEYS = saved;
  }
});

it("the quick start keeps a secret the environment supplied, so dropping the variable later changes no key", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "gatehouse-keys-"));
  const supplied = generateKeyEnv().GATEHOUSE_ENCRYPTION_KEYS;
  const first = { GATEHOUSE_ENCRYPTION_KEYS: supplied } as unknown as NodeJS.ProcessEnv;
  applyLocalSecrets(dataDir, first);
  expect(first.GATEHOUSE_ENCRYPTION_KEYS).toBe(supplied);
  expect(envFrom(dataDir).GATEHOUSE_ENCRYPTION_KEYS).toBe(supplied);
});

describe("audit signing key rotation", () => {
  it("on the quick start: a new key in secrets.json, every earlier one still trusted, newest first", () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "gatehouse-keys-"));
    const first = loadKeyRing(envFrom(dataDir)).signing.id;
    rotateLocalSigningKey(dataDir);
    const second = loadKeyRing(envFrom(dataDir)).signing;
    rotateLocalSigningKey(dataDir);
    const third = loadKeyRing(envFrom(dataDir)).signing;

    expect(new Set([first, second.id, third.id]).size).toBe(3);
    expect(third.retired.map((key) => key.id)).toEqual([second.id, first]);
    expect(trustedSigningKey(first, third)?.id).toBe(first);
    expect(trustedSigningKey("0123456789abcdef", third)).toBeUndefined();
    expect(statSync(path.join(dataDir, "secrets.json")).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path.join(dataDir, "secrets.json"), "utf8"))).toHaveProperty("AUTH_SECRET");
  });

  it("with no secrets.json there is nothing to rotate", () => {
    expect(rotateLocalSigningKey(mkdtempSync(path.join(tmpdir(), "gatehouse-keys-")))).toBeNull();
  });

  it("refuses a retired key that is not an Ed25519 public key, saying which entry", () => {
    const { GATEHOUSE_SIGNING_KEY, GATEHOUSE_SIGNING_PREVIOUS_KEYS } = rotateSigningKeyEnv(envFrom(mkdtempSync(path.join(tmpdir(), "gatehouse-keys-"))).GATEHOUSE_SIGNING_KEY!);
    expect(() => rotateSigningKeyEnv(GATEHOUSE_SIGNING_KEY, `${GATEHOUSE_SIGNING_PREVIOUS_KEYS},not-a-key`)).toThrow(/entry 2 is not an Ed25519 public key/);
  });
});

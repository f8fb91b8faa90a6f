import { afterEach, describe, expect, it, vi } from "vitest";
import { encrypt } from "@/lib/crypto";
import { UNDECRYPTABLE } from "@/lib/crypto/open-columns";
import { decryptInWorker } from "@/lib/crypto/parallel-decrypt";

afterEach(() => vi.restoreAllMocks());

describe("decryption on a worker thread", () => {
  it("opens each column under its own context, keeps nulls, and says which values no key opens", async () => {
    const failures = vi.spyOn(console, "error");
    const ips = ["198.51.100.7", "2001:db8::1", "203.0.113.9"].map((ip) => encrypt(ip, "audit.ip"));
    const agent = encrypt("Mozilla/5.0 (X11; Linux x86_64) é 😀", "audit.user_agent");
    const unknownKey = `nokey${ips[0]!.slice(ips[0]!.indexOf("."))}`;
    const [openedIps, openedAgents] = await decryptInWorker([
      { values: [...ips, null, unknownKey], context: "audit.ip" },
      // Sealed under another context: does not open here.
      { values: [agent, ips[0]!], context: "audit.user_agent" },
    ]);
    expect(openedIps).toEqual(["198.51.100.7", "2001:db8::1", "203.0.113.9", null, UNDECRYPTABLE]);
    expect(openedAgents).toEqual(["Mozilla/5.0 (X11; Linux x86_64) é 😀", UNDECRYPTABLE]);
    // The worker answered: had it failed to start or died, it would have said so here.
    expect(failures).not.toHaveBeenCalled();
  });

  it("answers batches sent at once, each with its own values", async () => {
    const batches = Array.from({ length: 8 }, (_, b) => Array.from({ length: 50 }, (_, i) => `10.0.${b}.${i}`));
    const opened = await Promise.all(batches.map((ips) => decryptInWorker([{ values: ips.map((ip) => encrypt(ip, "audit.ip")), context: "audit.ip" }])));
    expect(opened.map(([column]) => column)).toEqual(batches);
  });
});

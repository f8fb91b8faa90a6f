import { expect, test } from "@playwright/test";

// What a load balancer in front of several instances asks each of them (here: through the
// round-robin proxy, so both instances answer in turn).
test("liveness and readiness answer load balancers on every instance, uncached and with the security headers", async ({ request }) => {
  for (let i = 0; i < 2; i++) {
    const live = await request.get("/healthz");
    expect(live.status()).toBe(200);
    expect(await live.json()).toEqual({ status: "ok" });

    const ready = await request.get("/readyz");
    expect(ready.status()).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { database: "ok", oidc: "ok" } });
    expect(ready.headers()).toMatchObject({ "cache-control": "no-store", "x-content-type-options": "nosniff" });
  }
  for (const path of ["/healthz", "/readyz"]) {
    const refused = await request.post(path, { data: "x" });
    expect(refused.status()).toBe(405);
    expect(refused.headers().allow).toBe("GET, HEAD");
    expect((await request.delete(path)).status()).toBe(405);
    expect((await request.head(path)).status()).toBe(200);
  }
});

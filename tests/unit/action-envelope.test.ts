import { describe, expect, it } from "vitest";
import { actionEnvelopeProblem, ACTION_BODY_LIMIT_BYTES } from "@/lib/http/action-envelope";
import { formData as multipart } from "../support/forms";

const call = (body: BodyInit, headers: Record<string, string> = {}) =>
  new Request("http://localhost/account", { method: "POST", headers: { "Next-Action": "abc", ...headers }, body });
describe("server action envelopes", () => {
  it("lets React's encodings through: JSON text, and multipart with the argument list in field 0", async () => {
    expect(await actionEnvelopeProblem(call("[]"))).toBeNull();
    expect(await actionEnvelopeProblem(call(multipart({ "0": '[{},"$K1"]', "_1_email": "a@example.test" })))).toBeNull();
    // Not an action call at all: left to Next.js.
    expect(await actionEnvelopeProblem(new Request("http://localhost/", { method: "POST", body: "x" }))).toBeNull();
  });

  it("refuses what Next.js would answer with a 500: garbage, a missing argument list, oversized bodies", async () => {
    expect((await actionEnvelopeProblem(call("not json")))?.status).toBe(400);
    expect((await actionEnvelopeProblem(call('{"not":"a list"}')))?.status).toBe(400);
    expect((await actionEnvelopeProblem(call(multipart({ "_1_email": "a" }))))?.status).toBe(400);
    expect((await actionEnvelopeProblem(call("--x\r\nbroken", { "Content-Type": "multipart/form-data; boundary=x" })))?.status).toBe(400);
    const big = await actionEnvelopeProblem(call(multipart({ "0": "[]", filler: "A".repeat(ACTION_BODY_LIMIT_BYTES) })));
    expect(big?.status).toBe(413);
    expect(await big?.json()).toEqual({ error: "request_too_large", error_description: "A form is limited to 64 KB." });
    expect((await actionEnvelopeProblem(call(JSON.stringify(Array(1001).fill(0)))))?.status).toBe(400);
  });

  it("checks multipart posts to pages without the header too: Next.js reads them as forms posted before the script ran", async () => {
    const post = (body: BodyInit, path = "/sign-in", headers: Record<string, string> = {}) => new Request(`http://localhost${path}`, { method: "POST", body, headers });
    expect(await actionEnvelopeProblem(post(multipart({ email: "a@example.test" })))).toBeNull();
    expect((await actionEnvelopeProblem(post(multipart({ filler: "A".repeat(ACTION_BODY_LIMIT_BYTES) }))))?.status).toBe(413);
    expect((await actionEnvelopeProblem(post("--x\r\nbroken", "/sign-in", { "Content-Type": "multipart/form-data; boundary=x" })))?.status).toBe(400);
    // Route handlers read their own bodies, with their own limits.
    expect(await actionEnvelopeProblem(post(multipart({ filler: "A".repeat(ACTION_BODY_LIMIT_BYTES) }), "/api/v1/anything"))).toBeNull();
  });
});

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

  it("lets through the references this app's calls make, and refuses the rest and deep nesting (Next.js failed on them with a 500)", async () => {
    for (const body of ['[{"values":{"note":"$$5 off"},"ok":false},"$K1"]', '["$undefined","$D2026-12-06T00:00:00.000Z","$n42","$-0","$NaN"]']) {
      expect(await actionEnvelopeProblem(call(body)), body).toBeNull();
    }
    for (const body of ['["$Q3"]', '["$B3"]', '["$W3"]', '[{"a":"$T"}]', '["$h3"]', '["$@1"]', `${"[".repeat(5000)}${"]".repeat(5000)}`]) {
      expect((await actionEnvelopeProblem(call(body)))?.status, body.slice(0, 20)).toBe(400);
    }
    expect((await actionEnvelopeProblem(call(multipart({ "0": '["$Q3"]' }))))?.status).toBe(400);
  });

  it("checks multipart posts to pages without the header too: Next.js reads them as forms posted before the script ran", async () => {
    const post = (body: BodyInit, path = "/sign-in", headers: Record<string, string> = {}) => new Request(`http://localhost${path}`, { method: "POST", body, headers });
    expect(await actionEnvelopeProblem(post(multipart({ email: "a@example.test" })))).toBeNull();
    expect((await actionEnvelopeProblem(post(multipart({ filler: "A".repeat(ACTION_BODY_LIMIT_BYTES) }))))?.status).toBe(413);
    expect((await actionEnvelopeProblem(post("--x\r\nbroken", "/sign-in", { "Content-Type": "multipart/form-data; boundary=x" })))?.status).toBe(400);
    // The fields React writes into a form for its action, as a browser posts them, go through; made
    // badly (Next.js answers those with a 500), they are refused.
    const root = (bound: string | null) => JSON.stringify({ id: "7fd32ac1c37bc10776463b03a333314c32631e4595", bound });
    const form = (fields: Record<string, string>) => post(multipart({ "$ACTION_REF_1": "", email: "a@example.test", ...fields }));
    expect(await actionEnvelopeProblem(form({ "$ACTION_1:0": root("$@1"), "$ACTION_1:1": "[{}]", "$ACTION_KEY": "k1" }))).toBeNull();
    expect(await actionEnvelopeProblem(form({ "$ACTION_1:0": root(null) }))).toBeNull();
    for (const fields of [
      { "$ACTION_1:0": "{bad json" },
      { "$ACTION_1:0": "[1,2]" },
      { "$ACTION_1:0": root("$@1"), "$ACTION_1:1": "[{" },
      { "$ACTION_1:0": root("$@1") },
      { "$ACTION_1:0": root("$@2"), "$ACTION_1:1": "[{}]" },
      { "$ACTION_1:0": root("$@1"), "$ACTION_1:1": JSON.stringify(Array(1001).fill(1)) },
      { "$ACTION_1:0": root("$@1"), "$ACTION_1:1": '["$T"]' },
      { "$ACTION_1:0": root("$@1"), "$ACTION_1:1": '[{"x":"$Z"}]' },
    ] as Record<string, string>[]) {
      const refused = await actionEnvelopeProblem(form(fields));
      expect(refused?.status, JSON.stringify(fields)).toBe(400);
      expect(await refused?.json()).toEqual({ error: "invalid_request", error_description: "This form's action could not be read. Reload the page and try again." });
    }
    // Route handlers read their own bodies, with their own limits.
    expect(await actionEnvelopeProblem(post(multipart({ filler: "A".repeat(ACTION_BODY_LIMIT_BYTES) }), "/api/v1/anything"))).toBeNull();
  });
});

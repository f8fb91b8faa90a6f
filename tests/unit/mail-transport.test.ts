import { describe, expect, it } from "vitest";
import { smtpOptions } from "@/lib/mail";

describe("the SMTP transport", () => {
  it("requires STARTTLS to a server elsewhere, so nobody on the way can strip it and read recovery links", () => {
    expect(smtpOptions("smtp://user:pass@mail.example.com:587")).toMatchObject({ requireTLS: true });
    // TLS from the start, a relay on this machine, or an explicit opt-out need none.
    expect(smtpOptions("smtps://user:pass@mail.example.com:465")).toMatchObject({ requireTLS: false });
    expect(smtpOptions("smtp://127.0.0.1:2525")).toMatchObject({ requireTLS: false });
    expect(smtpOptions("smtp://localhost:25")).toMatchObject({ requireTLS: false });
    expect(smtpOptions("smtp://mail.internal:25?requireTLS=false")).toMatchObject({ requireTLS: false });
    expect(smtpOptions("smtp://mail.example.com:587")).toMatchObject({ connectionTimeout: 10_000, socketTimeout: 20_000 });
  });
});

import { createServer, type Server } from "node:http";
import type { LookupAddress } from "node:dns";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readConfig } from "@/lib/config";
import { newChannelSchema } from "@/lib/incidents";
import { checkedLookup, hostRefusal, postToWebhook, type Resolver } from "@/lib/http/destinations";
import { sendNotification } from "@/lib/incidents/notify";

// Webhooks reach public addresses only, checked when the connection is made; internal receivers
// need GATEHOUSE_WEBHOOK_ALLOWED_HOSTS. DNS is stood in for by resolvers that answer what a
// hostile or internal name would.

const host = (url: string) => hostRefusal(new URL(url).hostname);
const answering = (...addresses: string[]): Resolver => (_name, _options, callback) =>
  callback(null, addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })));
const notification = { deliveryId: "d-1", subject: "INC-1", text: "INC-1", payload: {} };

afterEach(() => {
  delete process.env.GATEHOUSE_WEBHOOK_ALLOWED_HOSTS;
});

describe("destinations judged without DNS", () => {
  it("refuses loopback, private, link-local, CGNAT, unique-local and other non-public literal addresses, in any spelling", () => {
    expect(host("https://127.0.0.1/")).toBe("127.0.0.1 is a loopback address");
    expect(host("https://0x7f.1/")).toBe("127.0.0.1 is a loopback address");
    expect(host("https://2130706433:8443/")).toBe("127.0.0.1 is a loopback address");
    expect(host("https://10.0.0.5:8443/")).toBe("10.0.0.5 is a private address");
    expect(host("https://172.16.4.1/")).toBe("172.16.4.1 is a private address");
    expect(host("https://192.168.1.1/")).toBe("192.168.1.1 is a private address");
    expect(host("https://169.254.169.254/")).toBe("169.254.169.254 is a link-local address");
    expect(host("https://100.64.0.1/")).toBe("100.64.0.1 is a carrier-grade NAT address");
    expect(host("https://0.0.0.0/")).toBe("0.0.0.0 is the unspecified address");
    expect(host("https://224.0.0.1/")).toBe("224.0.0.1 is a multicast address");
    expect(host("https://255.255.255.255/")).toBe("255.255.255.255 is the broadcast address");
    expect(host("https://192.0.2.10/")).toBe("192.0.2.10 is a reserved (documentation or testing) address");
    expect(host("https://[::1]/")).toBe("::1 is a loopback address");
    expect(host("https://[fd00::1]/")).toBe("fd00::1 is a unique-local address");
    expect(host("https://[fe80::1]/")).toBe("fe80::1 is a link-local address");
    expect(host("https://[::]/")).toBe(":: is the unspecified address");
    expect(host("https://[ff02::1]/")).toBe("ff02::1 is a multicast address");
    expect(host("https://[2001:db8::1]/")).toBe("2001:db8::1 is a reserved (documentation or testing) address");
  });

  it("judges an IPv6 address that carries an IPv4 one by the IPv4 address", () => {
    expect(host("https://[::ffff:10.0.0.5]/")).toBe("::ffff:a00:5 is a private address");
    expect(host("https://[::ffff:169.254.169.254]/")).toBe("::ffff:a9fe:a9fe is a link-local address");
    expect(host("https://[64:ff9b::127.0.0.1]/")).toBe("64:ff9b::7f00:1 is a loopback address");
    expect(host("https://[::10.0.0.5]/")).toBe("::a00:5 is a special-purpose address");
    expect(host("https://[64:ff9b:1::a00:5]/")).toBe("64:ff9b:1::a00:5 is a special-purpose address");
    // A public IPv4 address behind the well-known NAT64 prefix (an IPv6-only network) is public.
    expect(host("https://[64:ff9b::8.8.8.8]/")).toBeNull();
  });

  it("refuses names that only mean something inside a network", () => {
    expect(host("https://localhost/")).toBe("localhost is an internal name");
    expect(host("https://LOCALHOST./")).toBe("localhost is an internal name");
    expect(host("https://app.localhost/")).toBe("app.localhost is an internal name");
    expect(host("https://metadata.google.internal/")).toBe("metadata.google.internal is an internal name");
    expect(host("https://printer.local/")).toBe("printer.local is an internal name");
    expect(host("https://router.home.arpa/")).toBe("router.home.arpa is an internal name");
    expect(host("https://metadata/")).toBe("metadata is an internal name");
  });

  it("lets public addresses and names through (a name's addresses are checked at send)", () => {
    expect(host("https://93.184.215.14/")).toBeNull();
    expect(host("https://[2606:4700:4700::1111]/")).toBeNull();
    expect(host("https://hooks.slack.com/services/x")).toBeNull();
    expect(host("https://169.254.169.254.nip.io/")).toBeNull();
  });

  it("lets configured internal receivers through: by name, by address or by range, and nothing else", () => {
    process.env.GATEHOUSE_WEBHOOK_ALLOWED_HOSTS = "Chat-Bridge.internal., 10.20.0.0/16, 127.0.0.1";
    expect(host("https://chat-bridge.internal/hook")).toBeNull();
    expect(host("https://10.20.3.4:8443/")).toBeNull();
    expect(host("http://127.0.0.1:8080/")).toBeNull();
    expect(host("https://other.internal/")).toBe("other.internal is an internal name");
    expect(host("https://10.21.0.1/")).toBe("10.21.0.1 is a private address");
    expect(host("https://127.0.0.2/")).toBe("127.0.0.2 is a loopback address");
  });

  it("refuses a malformed allow list at start instead of guessing", () => {
    expect(() => readConfig({ ...process.env, GATEHOUSE_WEBHOOK_ALLOWED_HOSTS: "10.0.0.0/33" })).toThrow(/GATEHOUSE_WEBHOOK_ALLOWED_HOSTS/);
    expect(() => readConfig({ ...process.env, GATEHOUSE_WEBHOOK_ALLOWED_HOSTS: "999.1.1.1" })).toThrow(/GATEHOUSE_WEBHOOK_ALLOWED_HOSTS/);
    expect(() => readConfig({ ...process.env, GATEHOUSE_WEBHOOK_ALLOWED_HOSTS: "https://bridge.example" })).toThrow(/GATEHOUSE_WEBHOOK_ALLOWED_HOSTS/);
  });
});

describe("the channel form", () => {
  const webhook = (target: string) => newChannelSchema.safeParse({ kind: "webhook", name: "soc", target });
  const message = (target: string) => webhook(target).error?.issues[0]?.message;

  it("says why an internal destination is refused, and where to allow one", () => {
    expect(message("https://169.254.169.254/latest/meta-data/")).toBe(
      "Webhooks go to public addresses only: 169.254.169.254 is a link-local address. An internal receiver must be listed in GATEHOUSE_WEBHOOK_ALLOWED_HOSTS.",
    );
    expect(message("https://metadata.google.internal/")).toMatch(/metadata\.google\.internal is an internal name/);
    expect(message("https://10.0.0.5:8443/")).toMatch(/10\.0\.0\.5 is a private address/);
    expect(message("https://[fd00::1]/")).toMatch(/fd00::1 is a unique-local address/);
    expect(message("http://127.0.0.1:9000/hook")).toMatch(/127\.0\.0\.1 is a loopback address/);
  });

  it("keeps the other rules, and answers a form error (not an exception) for a malformed URL", () => {
    expect(message("http://hooks.example.com/")).toBe("Use an https URL (or http on loopback).");
    expect(message("https://user:pw@hooks.example.com/")).toBe("Put no credentials in the URL: the request is signed.");
    expect(webhook("not a url").success).toBe(false);
    expect(webhook("https://hooks.example.com/gatehouse").success).toBe(true);
  });

  it("accepts a listed internal receiver, http on loopback included", () => {
    process.env.GATEHOUSE_WEBHOOK_ALLOWED_HOSTS = "127.0.0.1,bridge.corp.example";
    expect(webhook("http://127.0.0.1:9000/hook").success).toBe(true);
    expect(webhook("https://bridge.corp.example/hook").success).toBe(true);
    expect(message("http://localhost:9000/hook")).toMatch(/localhost is an internal name/);
  });
});

describe("at send time", () => {
  let server: Server;
  let port = 0;
  const received: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      received.push(`${req.headers.host}${req.url}`);
      if (req.url === "/slow") return; // never answers
      req.resume().on("end", () => (req.url === "/moved" ? res.writeHead(302, { location: "http://169.254.169.254/" }).end() : res.writeHead(204).end()));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  afterEach(() => {
    received.length = 0;
  });

  const webhook = (url: string) => ({ name: "soc", kind: "webhook" as const, url, secret: "whsec_test" });

  it("refuses a name that resolves to an internal address (DNS rebinding included): nothing is sent", async () => {
    const send = (resolve: Resolver) => sendNotification(webhook(`http://hooks.example.com:${port}/`), notification, resolve);
    await expect(send(answering("127.0.0.1"))).rejects.toThrow(
      "webhook soc not sent: hooks.example.com resolves to a loopback address. Webhooks go to public addresses only; list an internal receiver in GATEHOUSE_WEBHOOK_ALLOWED_HOSTS.",
    );
    await expect(send(answering("169.254.169.254"))).rejects.toThrow(/resolves to a link-local address/);
    await expect(send(answering("::ffff:10.0.0.5"))).rejects.toThrow(/resolves to a private address/);
    // One public address does not vouch for the others: the connection could pick any of them.
    await expect(send(answering("93.184.215.14", "127.0.0.1"))).rejects.toThrow(/resolves to a loopback address/);
    expect(received).toEqual([]);
  });

  it("refuses a literal internal address before connecting", async () => {
    await expect(sendNotification(webhook(`http://127.0.0.1:${port}/`), notification)).rejects.toThrow(/not sent: 127\.0\.0\.1 is a loopback address/);
    await expect(sendNotification(webhook("https://[fd00::1]/"), notification)).rejects.toThrow(/not sent: fd00::1 is a unique-local address/);
    expect(received).toEqual([]);
  });

  it("connects to the address it checked: a listed internal receiver gets the delivery, by range or by name", async () => {
    process.env.GATEHOUSE_WEBHOOK_ALLOWED_HOSTS = "127.0.0.0/8";
    expect(await sendNotification(webhook(`http://hooks.example.com:${port}/`), notification, answering("127.0.0.1"))).toBe("webhook soc answered 204");
    process.env.GATEHOUSE_WEBHOOK_ALLOWED_HOSTS = "bridge.corp.example";
    expect(await sendNotification(webhook(`http://bridge.corp.example:${port}/`), notification, answering("127.0.0.1"))).toBe("webhook soc answered 204");
    expect(received).toEqual([`hooks.example.com:${port}/`, `bridge.corp.example:${port}/`]);
  });

  it("follows no redirect, and gives up on a receiver that does not answer", async () => {
    process.env.GATEHOUSE_WEBHOOK_ALLOWED_HOSTS = "127.0.0.1";
    await expect(sendNotification(webhook(`http://127.0.0.1:${port}/moved`), notification)).rejects.toThrow("webhook soc answered 302");
    await expect(postToWebhook(new URL(`http://127.0.0.1:${port}/slow`), {}, "{}", 200)).rejects.toThrow("no answer within 0.2 s");
    expect(received).toEqual([`127.0.0.1:${port}/moved`, `127.0.0.1:${port}/slow`]);
  });

  it("passes every public address a name resolves to on to the connection", async () => {
    const lookup = (options: { all: boolean }) => new Promise<unknown[]>((resolve) =>
      checkedLookup(answering("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"))("hooks.example.com", options, (error, address, family) => resolve([error, address, family])));
    const both: LookupAddress[] = [{ address: "93.184.215.14", family: 4 }, { address: "2606:2800:21f:cb07:6820:80da:af6b:8b2c", family: 6 }];
    expect(await lookup({ all: true })).toEqual([null, both, undefined]);
    expect(await lookup({ all: false })).toEqual([null, "93.184.215.14", 4]);
  });
});

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** An app's back-channel logout endpoint on loopback: the logout tokens it was sent, answering `status`. */
export async function startLogoutReceiver(options: { port?: number; status?: number } = {}): Promise<{ url: string; tokens: string[]; close: () => Promise<void> }> {
  const tokens: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      tokens.push(new URLSearchParams(body).get("logout_token") ?? "");
      res.writeHead(options.status ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/backchannel-logout`,
    tokens,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

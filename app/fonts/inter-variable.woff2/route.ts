import { readFile } from "node:fs/promises";
import path from "node:path";

// The OpenID provider's own pages (lib/oidc/error-page.ts) are plain HTML served outside Next.js,
// so they cannot point at next/font's copy of Inter (its name changes with each build): they load
// the same file from this fixed address.
const FONT = path.join(process.cwd(), "node_modules/@fontsource-variable/inter/files/inter-latin-wght-normal.woff2");

// Read once, at build time.
export const dynamic = "force-static";

export async function GET() {
  return new Response(new Uint8Array(await readFile(FONT)), { headers: { "Content-Type": "font/woff2", "Cache-Control": "public, max-age=604800" } });
}

import type { Metadata } from "next";
import { connection } from "next/server";
import localFont from "next/font/local";
import { FormDraftRestorer } from "@/components/ui/form-draft-restorer";
import "./globals.css";

// Served from npm (@fontsource-variable/inter): the build never fetches fonts.
const inter = localFont({
  src: "../node_modules/@fontsource-variable/inter/files/inter-latin-wght-normal.woff2",
  variable: "--font-inter",
  display: "swap",
});

export const metadata: Metadata = {
  title: { default: "Gatehouse", template: "%s · Gatehouse" },
  description: "Self-hosted identity portal and security console.",
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // Every page renders per request: its scripts carry that response's CSP nonce (proxy.ts).
  await connection();
  return (
    <html lang="en" className={inter.variable}>
      <body className="min-h-screen font-sans">
        {children}
        <FormDraftRestorer />
      </body>
    </html>
  );
}

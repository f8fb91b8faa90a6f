import { afterAll, beforeAll } from "vitest";
import { startSmtpSink } from "./smtp";

/**
 * For a whole test file: a real SMTP server started before its tests, through which Gatehouse
 * mails (GATEHOUSE_SMTP_URL), closed after them. `mails` is every message it has received.
 */
export function mailSinkForFile(): { readonly mails: string[]; readonly url: string } {
  let sink: Awaited<ReturnType<typeof startSmtpSink>> | null = null;
  beforeAll(async () => {
    sink = await startSmtpSink();
    process.env.GATEHOUSE_SMTP_URL = sink.url;
  });
  afterAll(async () => {
    delete process.env.GATEHOUSE_SMTP_URL;
    await sink?.close();
  });
  const started = () => {
    if (!sink) throw new Error("the mail sink starts before the file's tests");
    return sink;
  };
  return {
    get mails() {
      return started().mails;
    },
    get url() {
      return started().url;
    },
  };
}

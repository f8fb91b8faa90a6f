"use client";
import { useState } from "react";
import { useRouter } from "next/navigation";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";

/** Freshly generated backup codes: shown once, with a way to keep them. */
export function BackupCodesList({ codes }: { codes: string[] }) {
  const router = useRouter();
  // Dismissed by identity: the next set of codes (a new array from the next action) shows again.
  const [dismissed, setDismissed] = useState<string[] | null>(null);
  if (dismissed === codes) return null;
  const text = codes.join("\n");
  return (
    <div className="space-y-3 rounded-md border border-amber-200 bg-amber-50 p-4">
      <p className="text-sm font-medium text-amber-900">Save these backup codes now. Each works once, and they will not be shown again.</p>
      <ol className="grid grid-cols-2 gap-1 font-mono text-sm" data-testid="backup-codes">
        {codes.map((code) => (
          <li key={code}>{code}</li>
        ))}
      </ol>
      <div className="flex gap-2">
        <CopyButton value={text} what="backup codes" />
        <a
          className="inline-flex items-center rounded-md border border-slate-300 bg-white px-2.5 py-1 text-xs font-medium text-slate-800 hover:bg-slate-50"
          href={`data:text/plain;charset=utf-8,${encodeURIComponent(`Gatehouse backup codes\n\n${text}\n`)}`}
          download="gatehouse-backup-codes.txt"
        >
          Download
        </a>
        <Button
          type="button"
          size="sm"
          onClick={() => {
            setDismissed(codes);
            router.refresh();
          }}
        >
          I have saved them
        </Button>
      </div>
    </div>
  );
}

"use client";
import Link from "next/link";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { FormMessage } from "@/components/ui/form-message";
import { confirmEmailAction } from "./actions";

export function ConfirmEmailForm({ token }: { token: string }) {
  const [state, action, pending] = useActionState(confirmEmailAction, {});
  return (
    <form action={action} className="space-y-4">
      <FormMessage state={state} />
      <input type="hidden" name="token" value={token} />
      {state.ok ? (
        <Link href="/account" className="inline-block text-sm font-medium text-brand-700 hover:underline">Go to your account</Link>
      ) : (
        <Button type="submit" disabled={pending}>{pending ? "Confirming…" : "Confirm"}</Button>
      )}
    </form>
  );
}

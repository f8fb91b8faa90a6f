import { Field } from "@/components/ui/field";
import type { ActionState } from "@/lib/auth/action";

/** "New password" and "Repeat new password", as every form that sets a password asks for them. */
export function NewPasswordFields({ state, hint, autoFocus }: { state: ActionState; hint: string; autoFocus?: boolean }) {
  return (
    <>
      <Field label="New password" name="newPassword" type="password" autoComplete="new-password" required autoFocus={autoFocus} hint={hint} errors={state.fieldErrors?.newPassword} />
      <Field label="Repeat new password" name="confirmPassword" type="password" autoComplete="new-password" required errors={state.fieldErrors?.confirmPassword} />
    </>
  );
}

"use client";
import { echoed, echoedAll } from "@/components/ui/echoed";
import { Field } from "@/components/ui/field";
import { RecordForm } from "@/components/ui/record-form";
import { RoleCheckboxes } from "@/components/role-checkboxes";
import { changeEmailAction, deleteUserAction, resetMfaAction, setRolesAction, setTemporaryPasswordAction } from "../actions";

// Changes of someone's access say why: the reason goes into the audit trail with the change.
const REASON_HINT = "For example the support ticket and how the user's identity was checked: it goes into the audit trail with the change.";

/** One form on a user's page (RecordForm with the user's id). */
function UserForm({ userId, ...props }: Omit<Parameters<typeof RecordForm>[0], "fields"> & { userId: string }) {
  return <RecordForm fields={{ userId }} {...props} />;
}

export function RolesForm({ userId, roles }: { userId: string; roles: string[] }) {
  return (
    <UserForm action={setRolesAction} userId={userId} submit="Save roles" pending="Saving…">
      {(state) => (
        <>
          {/* After a refusal, the ticks as sent (React resets the form): not the stored roles, or saving again would save nothing. */}
          <RoleCheckboxes selected={state.values ? echoedAll(state, "roles") : roles} errors={state.fieldErrors?.roles} />
          <Field id="roles-reason" label="Why the roles change" name="reason" required maxLength={500} hint="A ticket number or a few words: it goes into the audit trail with the change." errors={state.fieldErrors?.reason} defaultValue={echoed(state, "reason")} />
        </>
      )}
    </UserForm>
  );
}

export function ChangeEmailForm({ userId, email }: { userId: string; email: string }) {
  return (
    <UserForm action={changeEmailAction} userId={userId} submit="Change email" pending="Saving…" variant="secondary">
      {(state) => (
        <>
          <Field
            label="Sign-in email" name="email" type="email" autoComplete="off" required defaultValue={echoed(state, "email") ?? email} errors={state.fieldErrors?.email}
            hint="Recovery links and security notices go here. The previous address is told of the change."
          />
          <Field id="email-reason" label="Why the email changes" name="reason" required maxLength={500} hint={REASON_HINT} errors={state.fieldErrors?.reason} defaultValue={echoed(state, "reason")} />
        </>
      )}
    </UserForm>
  );
}

export function TemporaryPasswordForm({ userId, minLength }: { userId: string; minLength: number }) {
  return (
    <UserForm action={setTemporaryPasswordAction} userId={userId} submit="Set temporary password" pending="Setting…" variant="danger" confirm="Replace this user's password with a temporary one and sign them out everywhere?">
      {(state) => (
        <>
          <Field
            label="Temporary password" name="temporaryPassword" type="password" autoComplete="new-password" required errors={state.fieldErrors?.temporaryPassword}
            hint={`At least ${minLength} characters. The user must choose their own at the next sign-in; a second factor is still asked.`}
          />
          <Field id="temporary-password-reason" label="Why reset it" name="reason" required maxLength={500} hint={REASON_HINT} errors={state.fieldErrors?.reason} defaultValue={echoed(state, "reason")} />
        </>
      )}
    </UserForm>
  );
}

export function ResetMfaForm({ userId }: { userId: string }) {
  return (
    <UserForm action={resetMfaAction} userId={userId} submit="Reset MFA" pending="Resetting…" variant="danger" confirm="Remove all of this user's second factors?">
      {(state) => <Field label="Reason" name="reason" required hint="For example the support ticket and how the user's identity was checked." errors={state.fieldErrors?.reason} defaultValue={echoed(state, "reason")} />}
    </UserForm>
  );
}

export function DeleteAccountForm({ userId, email }: { userId: string; email: string }) {
  return (
    <UserForm action={deleteUserAction} userId={userId} submit="Delete account" pending="Deleting…" variant="danger">
      {(state) => (
        <>
          <Field label="Type the account's email to confirm" name="confirmEmail" autoComplete="off" placeholder={email} required errors={state.fieldErrors?.confirmEmail} />
          <Field id="delete-reason" label="Why delete it" name="reason" required maxLength={500} hint="For example the leaver's ticket or the erasure request: it goes into the audit trail with the deletion." errors={state.fieldErrors?.reason} defaultValue={echoed(state, "reason")} />
        </>
      )}
    </UserForm>
  );
}

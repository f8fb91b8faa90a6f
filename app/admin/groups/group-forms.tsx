"use client";
import { echoed } from "@/components/ui/echoed";
import { Field, TextAreaField } from "@/components/ui/field";
import { RecordForm } from "@/components/ui/record-form";
import { addMemberAction, createGroupAction, deleteGroupAction, updateGroupAction } from "./actions";

const REASON_HINT = "A ticket number or a few words: it goes into the audit trail with the change.";

export function CreateGroupForm() {
  return (
    <RecordForm action={createGroupAction} fields={{}} submit="Create group" pending="Creating…">
      {(state) => (
        <div className="grid max-w-xl gap-4">
          <Field label="Name" name="name" required maxLength={100} placeholder="Security operations" errors={state.fieldErrors?.name} defaultValue={echoed(state, "name")} autoComplete="off" />
          <Field
            label="Id" name="id" required maxLength={63} placeholder="secops" errors={state.fieldErrors?.id} defaultValue={echoed(state, "id")} autoComplete="off"
            hint={'What policies name (Gatehouse::Group::"secops") and apps read in the groups claim. Lowercase letters, digits, - and _; it cannot change later.'}
          />
          <TextAreaField label="Description" name="description" maxLength={500} rows={2} errors={state.fieldErrors?.description} defaultValue={echoed(state, "description")} />
        </div>
      )}
    </RecordForm>
  );
}

export function GroupDetailsForm({ groupId, name, description }: { groupId: string; name: string; description: string }) {
  return (
    <RecordForm action={updateGroupAction} fields={{ groupId }} submit="Save" pending="Saving…" variant="secondary">
      {(state) => (
        <>
          <Field label="Name" name="name" required maxLength={100} errors={state.fieldErrors?.name} defaultValue={echoed(state, "name") ?? name} autoComplete="off" />
          <TextAreaField label="Description" name="description" maxLength={500} rows={2} errors={state.fieldErrors?.description} defaultValue={echoed(state, "description") ?? description} />
        </>
      )}
    </RecordForm>
  );
}

export function AddMemberForm({ groupId }: { groupId: string }) {
  return (
    <RecordForm action={addMemberAction} fields={{ groupId }} submit="Add to group" pending="Adding…">
      {(state) => (
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label="Account email" name="email" type="email" required autoComplete="off" errors={state.fieldErrors?.email} defaultValue={echoed(state, "email")} />
          <Field id="member-reason" label="Why they join" name="reason" required maxLength={500} hint={REASON_HINT} errors={state.fieldErrors?.reason} defaultValue={echoed(state, "reason")} />
        </div>
      )}
    </RecordForm>
  );
}

export function DeleteGroupForm({ groupId }: { groupId: string }) {
  return (
    <RecordForm action={deleteGroupAction} fields={{ groupId }} submit="Delete group" pending="Deleting…" variant="danger">
      {(state) => (
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label="Type the group's id to confirm" name="confirmId" autoComplete="off" placeholder={groupId} required errors={state.fieldErrors?.confirmId} />
          <Field id="delete-reason" label="Why delete it" name="reason" required maxLength={500} hint={REASON_HINT} errors={state.fieldErrors?.reason} defaultValue={echoed(state, "reason")} />
        </div>
      )}
    </RecordForm>
  );
}

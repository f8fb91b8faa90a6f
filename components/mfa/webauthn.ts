import { startAuthentication, startRegistration, type PublicKeyCredentialCreationOptionsJSON, type PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/browser";
import type { ActionState } from "@/lib/auth/action";

// Browser half of the WebAuthn ceremonies: ask a server action for options, run the ceremony,
// hand the response to another server action as a form.

type OptionsAction = (prev: ActionState, formData: FormData) => Promise<ActionState>;
type Options<T> = { challengeId: string; options: T };

/** The server refused to start a ceremony; its answer is kept whole (it may ask for step-up). */
class CeremonyRefused extends Error {
  constructor(readonly state: ActionState) {
    super(state.message ?? "Could not start the passkey request.");
  }
}

async function fetchOptions<T>(action: OptionsAction): Promise<Options<T>> {
  const state = await action({}, new FormData());
  if (!state.ok || !state.data) throw new CeremonyRefused(state);
  return state.data as Options<T>;
}

export async function passkeyAssertion(action: OptionsAction, useBrowserAutofill = false): Promise<FormData> {
  const { challengeId, options } = await fetchOptions<PublicKeyCredentialRequestOptionsJSON>(action);
  const response = await startAuthentication({ optionsJSON: options, useBrowserAutofill });
  return toForm({ challengeId, response: JSON.stringify(response) });
}

export async function passkeyRegistration(action: OptionsAction): Promise<FormData> {
  const { challengeId, options } = await fetchOptions<PublicKeyCredentialCreationOptionsJSON>(action);
  const response = await startRegistration({ optionsJSON: options });
  return toForm({ challengeId, response: JSON.stringify(response) });
}

export function toForm(fields: Record<string, string>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return form;
}

/** What to tell the user when the server refuses the ceremony, or the browser's fails or is cancelled. */
export function ceremonyError(error: unknown): ActionState {
  if (error instanceof CeremonyRefused) return { ok: false, message: error.message, stepUp: error.state.stepUp };
  if (error instanceof Error && error.name === "NotAllowedError") return { ok: false, message: "The passkey request was cancelled or timed out." };
  return { ok: false, message: error instanceof Error ? error.message : "The passkey request failed." };
}

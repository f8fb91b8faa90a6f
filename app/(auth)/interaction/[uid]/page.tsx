import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { signOutAction } from "@/components/shell/actions";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { apiScopeText } from "@/components/oidc/scope-text";
import { currentUser, sessionAuthentication } from "@/lib/auth";
import { canConfirmWith } from "@/lib/mfa";
import { loadInteraction, needsFreshLogin, strongerSignInAsked, wantsAnotherAccount } from "@/lib/oidc";
import { confirmAddress } from "@/lib/util/confirm-address";
import { consentAction, continueLoginAction } from "./actions";
import { InteractionForm } from "./interaction-form";

export const metadata: Metadata = { title: "Sign in to an app" };

// The provider's login and consent prompts. Login is the portal's own sign-in (password or
// passkey, with its MFA step): a browser already signed in to Gatehouse just confirms.
export default async function InteractionPage({ params }: { params: Promise<{ uid: string }> }) {
  const { uid } = await params;
  const interaction = await loadInteraction(uid);
  if (!interaction) {
    return (
      <Card level={1} title="This sign-in request cannot continue">
        <p className="text-sm text-slate-700">It has expired, or it was started in another browser. Return to the app and start again.</p>
      </Card>
    );
  }
  const here = `/interaction/${uid}`;
  const user = await currentUser();
  if (!user) redirect(`/sign-in?callbackUrl=${encodeURIComponent(here)}`);

  if (interaction.prompt === "login") {
    const otherAccount = wantsAnotherAccount(interaction, user.id);
    const authentication = await sessionAuthentication(user.sessionId);
    const reauth = otherAccount || needsFreshLogin(interaction, authentication.authTime);
    // The app asks for a second factor or a passkey (acr_values) this sign-in has not used: confirm with it first.
    const stronger = strongerSignInAsked(interaction, authentication.authMethods);
    const canConfirm = !!stronger && (await canConfirmWith(user.id, stronger === "phishing_resistant"));
    return (
      <Card level={1} title={`Sign in to ${interaction.client.name}`} description={`Signed in to Gatehouse as ${user.email}.`}>
        {reauth ? (
          <form action={signOutAction} className="space-y-3">
            <p className="text-sm text-slate-700">
              {otherAccount ? `${interaction.client.name} asks for another account than this one. Sign in with the account you use there.` : `${interaction.client.name} asks you to sign in again.`}
            </p>
            <input type="hidden" name="redirectTo" value={here} />
            <Button type="submit" className="w-full">
              {otherAccount ? "Use another account" : "Sign in again"}
            </Button>
          </form>
        ) : (
          <div className="space-y-3">
            {stronger && (
              <p className="text-sm text-slate-700" data-testid="stronger-sign-in">
                {interaction.client.name} asks for a sign-in with {stronger === "phishing_resistant" ? "a passkey" : "a second factor"}.{" "}
                {canConfirm ? (
                  <><Link className="font-medium text-brand-700 underline" href={confirmAddress(here, stronger === "phishing_resistant")}>Confirm it is you</Link>, then continue.</>
                ) : (
                  <>Your account has none: add one under <Link className="font-medium text-brand-700 underline" href="/account/security">Account → Security</Link>, then start again from the app.</>
                )}
              </p>
            )}
            <InteractionForm action={continueLoginAction}>
              <input type="hidden" name="uid" value={uid} />
              <Button type="submit" className="w-full">
                Continue as {user.name}
              </Button>
            </InteractionForm>
            <form action={signOutAction}>
              <input type="hidden" name="redirectTo" value={here} />
              <button type="submit" className="w-full text-center text-sm text-slate-600 underline">
                Use another account
              </button>
            </form>
          </div>
        )}
      </Card>
    );
  }

  const asked = interaction.missingScopes.length ? interaction.missingScopes : interaction.scopes.map((scope) => ({ scope, resource: null }));
  return (
    <Card
      level={1}
      title={`${interaction.client.name} wants access`}
      description={`Signed in as ${user.email}.${interaction.client.returnsTo ? ` If you allow it, you go back to ${interaction.client.returnsTo}.` : ""}`}
    >
      <InteractionForm action={consentAction} className="space-y-4">
        <input type="hidden" name="uid" value={uid} />
        <ul className="list-disc space-y-1 pl-5 text-sm text-slate-700" data-testid="consent-scopes">
          {asked.map(({ scope, resource }) => (
            <li key={`${resource ?? ""} ${scope}`}>{apiScopeText(scope, resource)}</li>
          ))}
        </ul>
        <label className="flex items-center gap-2 text-sm text-slate-700">
          <input type="checkbox" name="remember" defaultChecked /> Remember this decision
        </label>
        <div className="flex gap-2">
          <Button type="submit" name="decision" value="allow" className="flex-1">
            Allow
          </Button>
          <Button type="submit" name="decision" value="deny" variant="secondary" className="flex-1">
            Deny
          </Button>
        </div>
      </InteractionForm>
    </Card>
  );
}

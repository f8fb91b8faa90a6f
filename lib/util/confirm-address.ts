// Where step-up sends a person to confirm it is them, and back: one address for forms (FormMessage)
// and pages (requireAccess). `passkey`: the access policies accept only a passkey for what was asked.
export function confirmAddress(returnTo: string, passkey: boolean): string {
  return `/account/confirm?callbackUrl=${encodeURIComponent(returnTo)}${passkey ? "&factor=passkey" : ""}`;
}

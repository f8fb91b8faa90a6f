// Form fields whose values are never sent back to the browser nor kept there: a refused action does
// not echo them (lib/auth/action.ts), and a form kept across step-up does not store them
// (components/ui/form-draft.ts). A token's lifetime (a client's accessTokenTtl) is no secret.
export const SECRET_FIELD = /password|token(?!ttl)|secret|code/i;

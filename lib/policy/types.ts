// Types the policy editor (a client component) shares with lib/policy, without importing server code.
export type CedarProblem = {
  policyId: string | null;
  message: string;
  help: string | null;
  /** 1-based line and column in the policy text, when Cedar points at a place. */
  line: number | null;
  column: number | null;
};
export type PolicyCheck = { ok: boolean; errors: CedarProblem[]; warnings: CedarProblem[] };

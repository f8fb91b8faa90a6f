import { STEP_KINDS, STEP_LABELS } from "@/lib/incidents";

const EXAMPLES: Record<(typeof STEP_KINDS)[number], string> = {
  revoke_tokens: '{"kind": "revoke_tokens", "critical": true}',
  terminate_sessions: '{"kind": "terminate_sessions"}',
  block_ip: '{"kind": "block_ip", "scope": "ip", "hours": 24}',
  lock_accounts: '{"kind": "lock_accounts", "minutes": 60}',
  require_password_reset: '{"kind": "require_password_reset"}',
  require_mfa_reenrollment: '{"kind": "require_mfa_reenrollment"}',
  notify: '{"kind": "notify", "channel": "soc-webhook"}',
  escalate: '{"kind": "escalate", "assignee": "oncall@example.com", "channel": "oncall-email"}',
};

/** What steps a playbook can have, with an example of each (the editor takes a JSON array of them). */
export function StepReference() {
  return (
    <dl className="space-y-2 text-sm">
      {STEP_KINDS.map((kind) => (
        <div key={kind}>
          <dt className="font-medium text-slate-800">{STEP_LABELS[kind]}</dt>
          <dd className="font-mono text-xs text-slate-600">{EXAMPLES[kind]}</dd>
        </div>
      ))}
      <p className="text-xs text-slate-500">&quot;critical&quot;: true stops the run when the step fails (after retries). Steps act on the incident&apos;s affected users and IPs at the moment they run.</p>
    </dl>
  );
}

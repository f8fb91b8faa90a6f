import Link from "next/link";
import { Badge } from "@/components/ui/badge";
import { SeverityBadge } from "@/components/incidents/badges";
import { LocalTime } from "@/components/ui/local-time";
import { lastChainVerification } from "@/lib/audit";
import { listActiveUsersWithRole } from "@/lib/auth";
import { controlStatus, listRuns, signingKeyRotation, SIGNING_KEY_MAX_AGE_DAYS } from "@/lib/compliance";
import { incidentCounts, SEVERITIES } from "@/lib/incidents";
import { mfaRequiredRoles, withoutSecondFactor } from "@/lib/mfa";
import { signInRiskSummary } from "@/lib/risk";
import { counted } from "@/lib/util/format";

// The console overview's tiles: each reads its own domain's state and says plainly whether all is
// well. The page renders only those of sections the viewer may see.

const DAY = 86_400_000;
// A server component renders once per request: "now" is the request's time.
const withinLastDay = (at: Date) => Date.now() - at.getTime() < DAY;
const STATES = {
  ok: { tone: "green", text: "All clear" },
  check: { tone: "amber", text: "Worth a look" },
  act: { tone: "red", text: "Needs attention" },
} as const;

function Tile({ id, title, state, link, children }: { id: string; title: string; state: keyof typeof STATES; link: { href: string; label: string }; children: React.ReactNode }) {
  return (
    <section aria-labelledby={`tile-${id}`} data-testid={`overview-${id}`} className="flex flex-col rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <header className="flex items-start justify-between gap-3">
        <h2 id={`tile-${id}`} className="font-semibold text-slate-900">{title}</h2>
        <Badge tone={STATES[state].tone}>{STATES[state].text}</Badge>
      </header>
      <div className="mt-3 flex-1 space-y-2 text-sm text-slate-700">{children}</div>
      <Link href={link.href} className="mt-4 text-sm font-medium text-brand-700 hover:underline">{link.label} →</Link>
    </section>
  );
}

const linkClass = "text-brand-700 hover:underline";

export async function IncidentsTile() {
  const { bySeverity } = await incidentCounts();
  const open = [...SEVERITIES].reverse().filter((s) => bySeverity[s]! > 0);
  const urgent = (bySeverity.critical ?? 0) + (bySeverity.high ?? 0) > 0;
  return (
    <Tile id="incidents" title="Open incidents" state={open.length === 0 ? "ok" : urgent ? "act" : "check"} link={{ href: "/admin/incidents", label: "Incidents" }}>
      {open.length === 0 ? <p>No open incidents.</p> : (
        <ul className="space-y-1">
          {open.map((s) => (
            <li key={s}>
              <SeverityBadge severity={s} />{" "}
              <Link className={linkClass} href={`/admin/incidents?severity=${s}`}>{counted(bySeverity[s]!, "incident", "incidents")} not yet resolved</Link>
            </li>
          ))}
        </ul>
      )}
    </Tile>
  );
}

export async function SignInRiskTile() {
  const { attempts, refused, highRisk } = await signInRiskSummary(24);
  const quiet = refused === 0 && highRisk === 0;
  return (
    <Tile id="risk" title="Sign-ins, last 24 hours" state={quiet ? "ok" : "check"} link={{ href: "/admin/risk?range=24h", label: "Sign-in risk, last 24 hours" }}>
      {attempts === 0 ? <p>No sign-in attempts in the last 24 hours.</p> : quiet ? (
        <p>No sign-in refused or blocked, and no high-risk attempt, among {counted(attempts, "attempt", "attempts")}.</p>
      ) : (
        <>
          <ul className="space-y-1">
            <li><span className="font-semibold text-slate-900">{refused}</span> refused or blocked</li>
            <li><span className="font-semibold text-slate-900">{highRisk}</span> high-risk: a passkey was demanded, or the sign-in blocked</li>
          </ul>
          <p className="text-slate-500">Out of {counted(attempts, "attempt", "attempts")}.</p>
        </>
      )}
    </Tile>
  );
}

export async function ComplianceTile() {
  const [controls, [lastRun]] = await Promise.all([controlStatus(), listRuns({ take: 1 })]);
  const failing = controls.filter((c) => c.status === "fail");
  const untested = controls.filter((c) => c.status === "not_tested").length;
  return (
    <Tile id="compliance" title="SOC 2 controls" state={failing.length ? "act" : untested ? "check" : "ok"} link={{ href: "/admin/compliance", label: "Compliance" }}>
      {!lastRun ? <p>The controls have not been tested yet.</p> : (
        <>
          {failing.length === 0 ? <p>No failing controls.</p> : (
            <>
              <p>{counted(failing.length, "control fails", "controls fail")}:</p>
              <ul className="space-y-1">
                {failing.map((c) => (
                  <li key={c.id}>
                    <Link className={linkClass} href={`/admin/compliance/${encodeURIComponent(c.id)}`}>{c.id}</Link> {c.title}
                  </li>
                ))}
              </ul>
            </>
          )}
          {untested > 0 && <p>{counted(untested, "control is", "controls are")} not tested in the last 3 days.</p>}
          <p className="text-slate-500">Last tested <LocalTime at={lastRun.startedAt} />.</p>
        </>
      )}
    </Tile>
  );
}

export async function MfaEnrollmentTile() {
  const roles = mfaRequiredRoles();
  if (roles.length === 0) {
    return (
      <Tile id="mfa" title="Second factors" state="check" link={{ href: "/admin/users", label: "Users" }}>
        <p>No role requires a second factor (GATEHOUSE_MFA_REQUIRED_ROLES is empty).</p>
      </Tile>
    );
  }
  const missing = await withoutSecondFactor(await listActiveUsersWithRole(roles));
  const shown = missing.slice(0, 5);
  return (
    <Tile id="mfa" title="Second factors" state={missing.length ? "act" : "ok"} link={{ href: "/admin/users", label: "Users" }}>
      {missing.length === 0 ? <p>Everyone whose role requires a second factor ({roles.join(", ")}) has one.</p> : (
        <>
          <p>{counted(missing.length, "account has", "accounts have")} a role that requires a second factor ({roles.join(", ")}) but none yet; they must enroll at their next sign-in.</p>
          <ul className="space-y-1">
            {shown.map((u) => (
              <li key={u.userId}><Link className={linkClass} href={`/admin/users/${u.userId}`}>{u.email}</Link></li>
            ))}
            {missing.length > shown.length && <li className="text-slate-500">…and {missing.length - shown.length} more.</li>}
          </ul>
        </>
      )}
    </Tile>
  );
}

export async function AuditChainTile() {
  const last = await lastChainVerification();
  if (!last) {
    return (
      <Tile id="audit" title="Audit chain" state="check" link={{ href: "/admin/audit", label: "Audit trail" }}>
        <p>The chain has not been verified yet. Gatehouse verifies it daily; verify it now on the audit page.</p>
      </Tile>
    );
  }
  const at = new Date(last.at);
  const intact = last.outcome === "success";
  const recent = withinLastDay(at);
  const { eventsChecked, problem } = last;
  return (
    <Tile id="audit" title="Audit chain" state={!intact ? "act" : recent ? "ok" : "check"} link={{ href: "/admin/audit", label: "Audit trail" }}>
      {intact ? (
        <p>Intact when last verified, <LocalTime at={at} />{typeof eventsChecked === "number" && ` (${counted(eventsChecked, "event", "events")} checked)`}.</p>
      ) : (
        <p>
          The last verification, <LocalTime at={at} />, <Link className={linkClass} href={`/admin/audit/${last.seq}`}>failed</Link>
          {typeof problem === "string" && `: ${problem}`}
        </p>
      )}
      {!recent && <p>Not verified in the last 24 hours.</p>}
    </Tile>
  );
}

export async function SigningKeysTile() {
  const { active, due } = await signingKeyRotation();
  const oldest = active.reduce<Date | null>((min, k) => (!min || k.createdAt < min ? k.createdAt : min), null);
  return (
    <Tile id="keys" title="Signing keys" state={due.length ? "act" : oldest ? "ok" : "check"} link={{ href: "/admin/keys", label: "Signing keys" }}>
      {!oldest ? <p>No active signing key yet (opening the keys page creates the first ones).</p> : due.length > 0 ? (
        <p>{counted(due.length, "active key is", "active keys are")} older than {SIGNING_KEY_MAX_AGE_DAYS} days: due for rotation.</p>
      ) : (
        <p>No key is due for rotation. The next is due <LocalTime at={new Date(oldest.getTime() + SIGNING_KEY_MAX_AGE_DAYS * DAY)} />.</p>
      )}
    </Tile>
  );
}

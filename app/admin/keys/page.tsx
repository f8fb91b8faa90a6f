import type { Metadata } from "next";
import { ActionButton } from "@/components/ui/action-form";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { LocalTime } from "@/components/ui/local-time";
import { requireAccess } from "@/lib/auth";
import { getProvider, listSigningKeys } from "@/lib/oidc";
import { retireKeyNowAction, rotateKeysAction } from "./actions";

export const metadata: Metadata = { title: "Signing keys" };

const TONE = { active: "green", retiring: "amber", retired: "neutral" } as const;

export default async function KeysPage() {
  await requireAccess("keys");
  await getProvider(); // creates the first keys on a fresh install
  const keys = await listSigningKeys();
  return (
    <>
      <PageHeader title="Signing keys" description="Keys that sign ID tokens and JWT access tokens. Private parts are encrypted at rest." />
      <Card
        title="Keys"
        description="Rotating makes new keys sign at once; the old ones stay published (retiring) until every token they signed has expired, then retire. If a key leaked, rotate, then retire the old key now: tokens it signed stop verifying at once."
        actions={<ActionButton action={rotateKeysAction} label="Rotate keys" variant="danger" size="md" confirm="Rotate the signing keys now?" />}
      >
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-xs uppercase tracking-wide text-slate-500">
              <tr>
                <th className="py-2 pr-4 font-medium">Key id</th>
                <th className="py-2 pr-4 font-medium">Algorithm</th>
                <th className="py-2 pr-4 font-medium">State</th>
                <th className="py-2 pr-4 font-medium">Created</th>
                <th className="py-2 pr-4 font-medium">Retires</th>
                <th />
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {keys.map((k) => (
                <tr key={k.kid} data-testid="key-row">
                  <td className="max-w-[14rem] truncate py-2 pr-4 font-mono text-xs" title={k.kid}>
                    {k.kid}
                  </td>
                  <td className="py-2 pr-4">{k.alg}</td>
                  <td className="py-2 pr-4">
                    <Badge tone={TONE[k.state as keyof typeof TONE] ?? "neutral"}>{k.state}</Badge>
                  </td>
                  <td className="py-2 pr-4"><LocalTime at={k.createdAt} /></td>
                  <td className="py-2 pr-4">{k.retiredAt ? <>retired <LocalTime at={k.retiredAt} /></> : <LocalTime at={k.retireAfter} />}</td>
                  <td className="py-2 text-right">
                    {k.state === "retiring" && (
                      <ActionButton action={retireKeyNowAction} fields={{ kid: k.kid }} label="Retire now" variant="danger" confirm={`Retire key ${k.kid} now? Every token it signed stops verifying.`} />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
    </>
  );
}

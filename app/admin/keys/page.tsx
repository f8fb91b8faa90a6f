import type { Metadata } from "next";
import { ActionButton } from "@/components/ui/action-form";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { LocalTime } from "@/components/ui/local-time";
import { Table, TableBody, TableHead, Td, Th } from "@/components/ui/table";
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
        <Table>
          <TableHead>
            <Th>Key id</Th>
            <Th>Algorithm</Th>
            <Th>State</Th>
            <Th>Created</Th>
            <Th>Retires</Th>
            <Th />
          </TableHead>
          <TableBody>
            {keys.map((k) => (
              <tr key={k.kid} data-testid="key-row">
                <Td className="max-w-[14rem] truncate font-mono text-xs" title={k.kid}>
                  {k.kid}
                </Td>
                <Td>{k.alg}</Td>
                <Td>
                  <Badge tone={TONE[k.state as keyof typeof TONE] ?? "neutral"}>{k.state}</Badge>
                </Td>
                <Td><LocalTime at={k.createdAt} /></Td>
                <Td>{k.retiredAt ? <>retired <LocalTime at={k.retiredAt} /></> : <LocalTime at={k.retireAfter} />}</Td>
                <Td className="text-right">
                  {k.state === "retiring" && (
                    <ActionButton action={retireKeyNowAction} fields={{ kid: k.kid }} label="Retire now" variant="danger" confirm={`Retire key ${k.kid} now? Every token it signed stops verifying.`} />
                  )}
                </Td>
              </tr>
            ))}
          </TableBody>
        </Table>
      </Card>
    </>
  );
}

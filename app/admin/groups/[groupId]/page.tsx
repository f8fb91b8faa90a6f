import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { ActionButton } from "@/components/ui/action-form";
import { PageHeader } from "@/components/shell/page-header";
import { LocalTime } from "@/components/ui/local-time";
import { Table, TableBody, TableHead, Td, Th } from "@/components/ui/table";
import { canAccessAfterStepUp, requireAccess } from "@/lib/auth";
import { findGroup, groupIdSchema } from "@/lib/groups";
import { removeMemberAction } from "../actions";
import { AddMemberForm, DeleteGroupForm, GroupDetailsForm } from "../group-forms";

export const metadata: Metadata = { title: "Group" };

const REASON_PROMPT = "Why? (a ticket number or a few words; it goes into the audit trail)";

export default async function GroupPage({ params }: { params: Promise<{ groupId: string }> }) {
  const { groupId } = await params;
  const user = await requireAccess("users");
  const id = groupIdSchema.safeParse(groupId);
  const group = id.success ? await findGroup(id.data) : null;
  if (!group) notFound();
  const isAdmin = user.roles.includes("admin");
  const mayManage = await canAccessAfterStepUp(user, { section: "users", action: "manage" });
  const { namedBy } = group;

  return (
    <>
      <Link href="/admin/groups" className="text-sm text-brand-700 hover:underline">
        ← Groups
      </Link>
      <PageHeader title={group.name} description={group.description || undefined} />
      <div className="space-y-6">
        <Card title="In the policies and apps">
          <p className="text-sm text-slate-700">
            Policies name it <code className="rounded bg-slate-100 px-1 font-mono text-xs">Gatehouse::Group::&quot;{group.id}&quot;</code>; apps allowed the
            groups scope read <code className="rounded bg-slate-100 px-1 font-mono text-xs">{group.id}</code> in the groups claim.
          </p>
          <p className="mt-2 text-sm text-slate-700" data-testid="group-policies">
            {namedBy.length ? <>The policies in force that name it: {namedBy.join(", ")}.</> : "No policy in force names it."}{" "}
            <Link href="/admin/policies" className="text-brand-700 hover:underline">Policies</Link>
          </p>
        </Card>
        <Card
          title={`Members (${group.members.length})`}
          description={`${namedBy.length ? "The policies name this group: only an admin changes who is in it. " : ""}Being added or removed takes effect at the member's next request; tokens apps already hold keep the groups they were issued with until they expire.`}
        >
          <div className="space-y-4">
            {group.members.length === 0 ? (
              <p className="text-sm text-slate-500">No members yet.</p>
            ) : (
              <Table>
                <TableHead>
                  <Th>Account</Th>
                  <Th>Added</Th>
                  {mayManage && <Th className="text-right">Remove</Th>}
                </TableHead>
                <TableBody>
                  {group.members.map((m) => (
                    <tr key={m.id} data-testid="member-row">
                      <Td>
                        <Link href={`/admin/users/${m.id}`} className="font-medium text-brand-700 hover:underline">
                          {m.email}
                        </Link>
                        <div className="text-xs text-slate-500">
                          {m.name} {m.disabledAt && <Badge tone="red">Disabled</Badge>}
                        </div>
                      </Td>
                      <Td><LocalTime at={m.addedAt} /></Td>
                      {mayManage && (
                        <Td className="text-right">
                          <ActionButton action={removeMemberAction} fields={{ groupId: group.id, userId: m.id }} label="Remove" confirm={`Remove ${m.email} from ${group.name}?`} askReason={REASON_PROMPT} />
                        </Td>
                      )}
                    </tr>
                  ))}
                </TableBody>
              </Table>
            )}
            {mayManage && <AddMemberForm groupId={group.id} />}
          </div>
        </Card>
        {isAdmin && (
          <>
            <Card title="Name and description" description={`The id ${group.id} stays: policies and apps know the group by it.`}>
              <GroupDetailsForm groupId={group.id} name={group.name} description={group.description} />
            </Card>
            <Card
              title="Delete group"
              description={
                namedBy.length
                  ? `Policies in force name this group (${namedBy.join(", ")}): once it is deleted, none of its members is in it, so what those policies grant or deny by it no longer applies to them.`
                  : "Its members lose the group; the accounts stay."
              }
            >
              <DeleteGroupForm groupId={group.id} />
            </Card>
          </>
        )}
      </div>
    </>
  );
}

import type { Metadata } from "next";
import Link from "next/link";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { LocalTime } from "@/components/ui/local-time";
import { Table, TableBody, TableHead, Td, Th } from "@/components/ui/table";
import { requireAccess } from "@/lib/auth";
import { listGroups } from "@/lib/groups";
import { UsersNav } from "../users/users-nav";
import { CreateGroupForm } from "./group-forms";

export const metadata: Metadata = { title: "Groups" };

export default async function GroupsPage() {
  const user = await requireAccess("users");
  const groups = await listGroups();
  return (
    <>
      <PageHeader title="Groups" description={`${groups.length} group${groups.length === 1 ? "" : "s"}. Policies grant or deny by group; apps allowed the groups scope read them in the groups claim.`} />
      <UsersNav current="/admin/groups" />
      <div className="space-y-6">
        <Card>
          {groups.length === 0 ? (
            <p className="text-sm text-slate-500">No groups yet.</p>
          ) : (
            <Table>
              <TableHead>
                <Th>Group</Th>
                <Th>Id</Th>
                <Th>Members</Th>
                <Th>Created</Th>
              </TableHead>
              <TableBody>
                {groups.map((g) => (
                  <tr key={g.id} data-testid="group-row">
                    <Td>
                      <Link href={`/admin/groups/${g.id}`} className="font-medium text-brand-700 hover:underline">
                        {g.name}
                      </Link>
                      {g.description && <div className="text-xs text-slate-500">{g.description}</div>}
                    </Td>
                    <Td className="font-mono text-xs">{g.id}</Td>
                    <Td>{g.memberCount}</Td>
                    <Td><LocalTime at={g.createdAt} /></Td>
                  </tr>
                ))}
              </TableBody>
            </Table>
          )}
        </Card>
        {user.roles.includes("admin") ? (
          <Card title="Create a group" description="A group starts empty: add its members on its page.">
            <CreateGroupForm />
          </Card>
        ) : (
          <p className="text-sm text-slate-500">Only an admin makes groups. You can change who is in the groups you belong to.</p>
        )}
      </div>
    </>
  );
}

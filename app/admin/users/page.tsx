import type { Metadata } from "next";
import Link from "next/link";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { LocalTime } from "@/components/ui/local-time";
import { Table, TableBody, TableHead, Td, Th } from "@/components/ui/table";
import { listUsers, requireAccess, ROLES, userListFiltersSchema } from "@/lib/auth";
import { factorNames } from "@/lib/mfa";
import { listGroups } from "@/lib/groups";
import { CreateUserForm } from "./create-user-form";
import { UsersNav } from "./users-nav";

export const metadata: Metadata = { title: "Users" };

const select = "rounded-md border border-slate-300 bg-white px-2 py-2 text-sm";

export default async function UsersPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await requireAccess("users");
  const filters = userListFiltersSchema.parse(await searchParams);
  const [result, groups] = await Promise.all([listUsers(filters), listGroups()]);
  const { page: _page, ...kept } = filters;
  const filtered = Object.values(kept).some(Boolean);
  const pageHref = (p: number) => `/admin/users?${new URLSearchParams(Object.entries({ ...kept, page: p }).flatMap(([key, value]) => (value ? [[key, String(value)]] : [])))}`;

  return (
    <>
      <PageHeader title="Users" description={`${result.total} account${result.total === 1 ? "" : "s"}${filtered ? " match" : ""}.`} />
      <UsersNav current="/admin/users" />
      <div className="space-y-6">
        <Card>
          <form role="search" className="mb-4 flex flex-wrap gap-2" action="/admin/users">
            <label htmlFor="user-search" className="sr-only">
              Search users
            </label>
            <input
              id="user-search"
              name="q"
              defaultValue={filters.q}
              placeholder="Search by email or name"
              className="w-full max-w-sm rounded-md border border-slate-300 px-3 py-2 text-sm"
            />
            <select name="role" aria-label="Role" defaultValue={filters.role ?? ""} className={select}>
              <option value="">Any role</option>
              {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
            </select>
            <select name="status" aria-label="Status" defaultValue={filters.status ?? ""} className={select}>
              <option value="">Active or disabled</option>
              <option value="active">Active</option>
              <option value="disabled">Disabled</option>
            </select>
            <select name="secondFactor" aria-label="Second factor" defaultValue={filters.secondFactor ?? ""} className={select}>
              <option value="">With or without a second factor</option>
              <option value="with">With a second factor</option>
              <option value="without">Without a second factor</option>
            </select>
            {groups.length > 0 && (
              <select name="group" aria-label="Group" defaultValue={filters.group ?? ""} className={select}>
                <option value="">In any group or none</option>
                {groups.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
              </select>
            )}
            <button className="rounded-md border border-slate-300 bg-white px-4 py-2 text-sm hover:bg-slate-50">Search</button>
          </form>
          {result.users.length === 0 ? (
            <p className="text-sm text-slate-500">No users match.</p>
          ) : (
            <Table>
              <TableHead>
                <Th>User</Th>
                <Th>Roles</Th>
                <Th>Status</Th>
                <Th>Second factor</Th>
                <Th>Last sign-in</Th>
                <Th>Sessions</Th>
              </TableHead>
              <TableBody>
                {result.users.map((u) => (
                  <tr key={u.id} data-testid="user-row">
                    <Td>
                      <Link href={`/admin/users/${u.id}`} className="font-medium text-brand-700 hover:underline">
                        {u.email}
                      </Link>
                      <div className="text-xs text-slate-500">{u.name}</div>
                    </Td>
                    <Td>
                      <div className="flex flex-wrap gap-1">
                        {u.roles.filter((r) => r !== "user").map((r) => (
                          <Badge key={r} tone="brand">
                            {r}
                          </Badge>
                        ))}
                      </div>
                    </Td>
                    <Td>{u.disabledAt ? <Badge tone="red">Disabled</Badge> : <Badge tone="green">Active</Badge>}</Td>
                    <Td><SecondFactors factors={u.secondFactors} /></Td>
                    <Td><LocalTime at={u.lastSignInAt} /></Td>
                    <Td>{u.activeSessions}</Td>
                  </tr>
                ))}
              </TableBody>
            </Table>
          )}
          {result.pageCount > 1 && (
            <nav aria-label="Pages" className="mt-4 flex items-center justify-between text-sm">
              <span className="text-slate-500">
                Page {result.page} of {result.pageCount}
              </span>
              <span className="flex gap-2">
                {result.page > 1 && <Link href={pageHref(result.page - 1)} className="text-brand-700 hover:underline">Previous</Link>}
                {result.page < result.pageCount && <Link href={pageHref(result.page + 1)} className="text-brand-700 hover:underline">Next</Link>}
              </span>
            </nav>
          )}
        </Card>
        <Card title="Create a user" description="Give the user the initial password by a separate channel. Unless you untick it, they must choose their own at first sign-in.">
          <CreateUserForm />
        </Card>
      </div>
    </>
  );
}

function SecondFactors({ factors }: { factors: { totp: boolean; passkeys: number } }) {
  const names = factorNames(factors);
  return names.length ? <span className="text-sm">{names.join(", ")}</span> : <Badge tone="amber">None</Badge>;
}

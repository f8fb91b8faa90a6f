// What a user row selects to know its groups, and the ids read off it. Shared by lib/auth (the
// session's user, OpenID accounts, policy principals) and lib/groups; imports nothing of either.

export const GROUP_IDS = { groups: { select: { groupId: true }, orderBy: { groupId: "asc" } } } as const;

export const groupIds = (row: { groups: { groupId: string }[] }): string[] => row.groups.map((g) => g.groupId);

// What a user row selects to know its groups, and the ids read off it. Shared by lib/auth (the
// session's user, OpenID accounts, policy principals) and lib/groups; imports nothing of either.

/** What a group id is: what policies name and apps read, so plain and short. */
export const GROUP_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export const GROUP_IDS = { groups: { select: { groupId: true }, orderBy: { groupId: "asc" } } } as const;

export const groupIds = (row: { groups: { groupId: string }[] }): string[] => row.groups.map((g) => g.groupId);

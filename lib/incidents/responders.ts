import "server-only";
import { findActiveUserWithRole, listActiveUsersWithRole } from "../auth/users";

// Who incidents can be assigned and escalated to: active analysts and admins.
const RESPONDER_ROLES = ["admin", "analyst"] as const;

export const listResponders = () => listActiveUsersWithRole([...RESPONDER_ROLES]);
export const findResponder = (email: string) => findActiveUserWithRole(email, [...RESPONDER_ROLES]);

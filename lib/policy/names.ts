// What a registered service's namespace, types and actions may be called: one definition for what
// a service schema may declare (service-schemas.ts) and what the decision point (service-api.ts)
// and the simulator (simulate.ts) may be asked about. Pure data, not "server-only".

/** A service's namespace: one word of at most 40 characters, starting with a capital letter (Docs). */
const NAMESPACE_SOURCE = "[A-Z][A-Za-z0-9_]{0,39}";
export const NAMESPACE = new RegExp(`^${NAMESPACE_SOURCE}$`);

/** An entity type: <Namespace>::<Name> (Gatehouse's or a service's), within what the audit trail records of a resource. */
export const MAX_TYPE_NAME = 64;
export const TYPE_NAME = /^[A-Za-z_]\w*(::[A-Za-z_]\w*)+$/;
/** A registered service's own entity type, as the simulator offers it: Docs::Document. */
export const SERVICE_TYPE = new RegExp(`^${NAMESPACE_SOURCE}::[A-Za-z_]\\w*$`);

/** An action's id: at most 100 characters, without " or \ (policies quote it). */
const ACTION_ID_SOURCE = '[^"\\\\]{1,100}';
export const ACTION_ID = new RegExp(`^${ACTION_ID_SOURCE}$`);
/** A registered service's action as policies name it: Docs::Action::"read" (the namespace, the id). */
export const SERVICE_ACTION = new RegExp(`^(${NAMESPACE_SOURCE})::Action::"(${ACTION_ID_SOURCE})"$`);

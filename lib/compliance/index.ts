// lib/compliance's public surface: the control catalog, the automated tests of the live system,
// their runs with evidence, control status and exceptions.
export { CONTROLS, CONTROL_IDS, type Control } from "./catalog";
export { CHECKS, type Check } from "./checks";
export { runControlTests, scheduleControlTests, controlStatus, grantException, revokeException, exceptionSchema, CONTROL_STATUSES, type ControlState, type ControlStatus, type RunSummary } from "./runs";

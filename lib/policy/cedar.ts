import "server-only";
import type * as CedarWasm from "@cedar-policy/cedar-wasm/nodejs";
import type { CedarProblem } from "./types";

// The one place that talks to Cedar (WebAssembly). Loaded with require: the Node.js build of
// cedar-wasm is CommonJS and instantiates its module synchronously, so dropping it from require's
// cache and loading it again gives a fresh instance (see withCedar). Node's own require, reached
// around the bundler: Turbopack replaces createRequire(import.meta.url) with its own loader, which
// refuses a module named by a variable and has no cache to drop it from.
const load = process.getBuiltinModule("node:module").createRequire(import.meta.url);
const CEDAR_MODULE = load.resolve("@cedar-policy/cedar-wasm/nodejs");
const freshCedar = () => {
  delete load.cache[CEDAR_MODULE];
  return load(CEDAR_MODULE) as typeof CedarWasm;
};
let cedar = freshCedar();

/** What a call answers when Cedar's stack overflowed on it. */
export const TOO_DEEP = "Cedar could not read this: it nests too deeply";

// Cedar's WebAssembly stack gives out at about 80 nested brackets, or 120 chained operators, and
// sooner on a freshly loaded engine or a deep call stack (as few as 60 measured): policies are held
// well below, so what validates can also be evaluated.
const MAX_BRACKET_NESTING = 32;
const MAX_EXPRESSION_DEPTH = 100; // in Cedar's JSON form: about two levels per operator, so ~45 chained terms

/**
 * One call into Cedar. Cedar's WebAssembly has a small stack: policy text nested ~130 deep
 * overflows it, and the overflow leaves the instance broken, so that every later call (decisions on
 * the published policies too) traps as well, which would deny everything until a restart. So an
 * overflow swaps in a fresh instance, parses the preparsed sets again there, and answers `trapped()`.
 */
function withCedar<T>(call: () => T, trapped: () => T): T {
  try {
    return call();
  } catch (error) {
    // The overflow shows as a trap or, when V8's own stack runs out first, as a RangeError.
    if (!(error instanceof WebAssembly.RuntimeError || error instanceof RangeError)) throw error;
    cedar = freshCedar();
    for (const [id, set] of preparsedSets) {
      // Each on its own: one that cannot be parsed again must not leave the others unloaded.
      try {
        if (cedar.preparsePolicySet(id, { staticPolicies: set.text }).type === "success") continue;
      } catch {
        cedar = freshCedar();
      }
      console.error(`[policy] policy set ${id} could not be parsed again after Cedar restarted; decisions against it deny`);
      preparsedSets.delete(id);
    }
    return trapped();
  }
}

const tooDeep = (): CedarProblem => ({ policyId: null, message: TOO_DEEP, help: null, line: null, column: null });

export type { CedarProblem };

function locate(text: string, offset: number | undefined): { line: number | null; column: number | null } {
  if (offset === undefined) return { line: null, column: null };
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

// Cedar names the policies of a text policy0, policy1, …; people name them with @id("…").
const named = (ids: readonly string[], cedarId: string) => ids[Number(/^policy(\d+)$/.exec(cedarId)?.[1] ?? -1)] ?? cedarId;

function problem(text: string, error: CedarWasm.DetailedError, policyId: string | null = null): CedarProblem {
  const message = policyId ? error.message.replace(/`policy\d+`/g, `\`${policyId}\``) : error.message;
  return { policyId, message, help: error.help, ...locate(text, error.sourceLocations?.[0]?.start) };
}

/**
 * Cedar text as a reader of its code sees it: each string literal whole (its raw text between the
 * quotes, escapes as written), every other character one by one, comments left out.
 */
export function* cedarTokens(text: string): Generator<{ at: number; string: string } | { at: number; char: string }> {
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      const at = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      yield { at, string: text.slice(at + 1, i) };
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else {
      yield { at: i, char: c };
    }
  }
}

/**
 * Where `text` nests brackets deeper than MAX_BRACKET_NESTING (outside strings and comments), if it
 * does; `angles`: a schema's `Set<…>` too (in policies, < and > compare).
 */
function bracketNestingProblem(text: string, angles = false): CedarProblem | null {
  const [open, close] = angles ? ["([{<", ")]}>"] : ["([{", ")]}"];
  let depth = 0;
  for (const token of cedarTokens(text)) {
    if (!("char" in token)) continue;
    if (open.includes(token.char)) {
      if (++depth > MAX_BRACKET_NESTING) return { policyId: null, message: `${TOO_DEEP}: brackets more than ${MAX_BRACKET_NESTING} deep.`, help: angles ? "Declare a nested record as a type of its own." : "Take a nested part out into a policy of its own.", ...locate(text, token.at) };
    } else if (close.includes(token.char)) {
      depth = Math.max(0, depth - 1);
    }
  }
  return null;
}

/**
 * The policies of a set, each with its id (its @id annotation, else Cedar's policy0, policy1, … in
 * text order) and its JSON form (null if Cedar gives none); null if the text does not parse, or
 * overflowed Cedar.
 */
function parsedPolicies(text: string): { id: string; json: CedarWasm.PolicyJson | null }[] | null {
  return withCedar(() => {
    const parts = cedar.policySetTextToParts(text);
    if (parts.type === "failure") return null;
    return parts.policies.map((policy, i) => {
      const json = cedar.policyToJson(policy);
      const parsed = json.type === "success" ? json.json : null;
      // The annotation as Cedar reads it: text would find one in a comment, and miss `@id ("x")`.
      // An empty @id names nothing: it counts as none.
      return { id: parsed?.annotations?.id || `policy${i}`, json: parsed };
    });
  }, () => null);
}

/** The policies whose conditions are deeper than MAX_EXPRESSION_DEPTH in Cedar's JSON form. */
function expressionDepthProblems(policies: readonly { id: string; json: unknown }[]): CedarProblem[] {
  const depth = (node: unknown): number => (typeof node !== "object" || node === null ? 0 : 1 + Math.max(0, ...Object.values(node).map(depth)));
  return policies.flatMap(({ id, json }) => depth(json) <= MAX_EXPRESSION_DEPTH ? [] : [{
    policyId: id, message: `${TOO_DEEP} to be evaluated safely: a condition chains or nests more than about 45 operators.`,
    help: "Split the condition over several policies (a long list of address ranges, say, into policies of 40).", line: null, column: null,
  }]);
}

/**
 * Parse and validate a policy set against `schema` (Gatehouse's and the services': service-schemas.ts's
 * schemaInForce), in strict mode, within what Cedar can evaluate.
 */
export function validatePolicies(text: string, schema: string): { ok: boolean; errors: CedarProblem[]; warnings: CedarProblem[] } {
  const nesting = bracketNestingProblem(text);
  if (nesting) return { ok: false, errors: [nesting], warnings: [] };
  const answer = withCedar(() => cedar.validate({ schema, policies: { staticPolicies: text }, validationSettings: { mode: "strict" } }), () => null);
  if (answer === null) return { ok: false, errors: [tooDeep()], warnings: [] };
  if (answer.type === "failure") return { ok: false, errors: answer.errors.map((e) => problem(text, e)), warnings: [] };
  const policies = parsedPolicies(text);
  if (policies === null) return { ok: false, errors: [tooDeep()], warnings: [] };
  const ids = policies.map((p) => p.id);
  // Cedar reports one error per action a policy applies to; people need each problem once.
  const unique = (list: CedarWasm.ValidationError[]) =>
    [...new Map(list.map((e) => [`${e.policyId}:${e.error.sourceLocations?.[0]?.start}:${e.error.help}`, problem(text, e.error, named(ids, e.policyId))])).values()];
  const errors = [...unique(answer.validationErrors), ...expressionDepthProblems(policies)];
  return { ok: errors.length === 0, errors, warnings: unique(answer.validationWarnings) };
}

/** A schema's namespaces in Cedar's JSON form. */
export type SchemaJson = CedarWasm.SchemaJson<string>;

/**
 * Reads `text`, a schema fragment that follows `before` (the schemas it may refer to), into Cedar's
 * JSON form of the whole; problems are located in `text`.
 */
export function readSchema(before: string, text: string): { ok: true; json: SchemaJson } | { ok: false; errors: CedarProblem[] } {
  const nesting = bracketNestingProblem(text, true);
  if (nesting) return { ok: false, errors: [nesting] };
  const answer = withCedar(() => cedar.schemaToJson(`${before}\n${text}`), () => null);
  if (answer === null) return { ok: false, errors: [tooDeep()] };
  if (answer.type === "success") return { ok: true, json: answer.json };
  // Cedar locates its errors in the whole text; the fragment starts after `before` and its newline.
  // An unresolved type it locates at 0 (within the name alone): the name's first use is the place.
  const shift = before.length + 1;
  const place = (e: CedarWasm.DetailedError) => {
    const start = e.sourceLocations?.[0]?.start;
    if (start !== undefined && start >= shift) return start - shift;
    const unresolved = /failed to resolve types?: ([\w:]+)/.exec(e.message)?.[1];
    const at = unresolved ? text.indexOf(unresolved) : -1;
    return at >= 0 ? at : undefined;
  };
  return { ok: false, errors: answer.errors.map((e) => ({ policyId: null, message: e.message, help: e.help, ...locate(text, place(e)) })) };
}

export function formatPolicies(text: string): { ok: true; text: string } | { ok: false; errors: CedarProblem[] } {
  const answer = withCedar(() => cedar.formatPolicies({ policyText: text, lineWidth: 100, indentWidth: 2 }), () => null);
  if (answer === null) return { ok: false, errors: [tooDeep()] };
  return answer.type === "success" ? { ok: true, text: answer.formatted_policy.trimEnd() } : { ok: false, errors: answer.errors.map((e) => problem(text, e)) };
}

type Preparsed = { text: string; ids: string[]; forbids: Set<string> };
const preparsedSets = new Map<string, Preparsed>();

/**
 * Parses a policy set once under `id`, so decisions against it skip the parse (~90 µs each), and
 * notes its policies' ids and which of them forbid (Cedar's policy0, policy1, … in text order).
 */
export function preparse(id: string, text: string): void {
  const answer = withCedar(() => cedar.preparsePolicySet(id, { staticPolicies: text }), () => null);
  if (answer?.type !== "success") throw new Error(`Policy set ${id} does not parse: ${answer ? answer.errors.map((e) => e.message).join("; ") : TOO_DEEP}`);
  const policies = parsedPolicies(text) ?? [];
  // Cedar names the forbids of its diagnostics policy0, policy1, … in text order.
  const forbids = new Set(policies.flatMap((policy, i) => (policy.json?.effect === "forbid" ? [`policy${i}`] : [])));
  preparsedSets.set(id, { text, ids: policies.map((p) => p.id), forbids });
}

export type EntityRef = { type: string; id: string };
export type CedarEntity = { uid: EntityRef; attrs: Record<string, CedarWasm.CedarValueJson>; parents: EntityRef[] };
export type CedarRequest = { principal: EntityRef; action: EntityRef; resource: EntityRef; context: Record<string, CedarWasm.CedarValueJson>; entities: CedarEntity[] };
export type CedarDecision = {
  decision: "allow" | "deny";
  policies: string[];
  errors: { policyId: string; message: string }[];
  /** Cedar could not read the request (a value of a shape it has no type for): nothing was evaluated. */
  unreadable?: true;
};

/**
 * Cedar's decision, closed on failure: Cedar skips a policy whose evaluation fails (a missing
 * entity, an attribute missing), so a forbid that could not be evaluated would let a
 * permit through. Here it denies instead, and the error says why.
 */
export function decide(preparsedId: string, request: CedarRequest): CedarDecision {
  let answer: ReturnType<typeof cedar.statefulIsAuthorized> | null;
  try {
    answer = withCedar(() => cedar.statefulIsAuthorized({ ...request, preparsedPolicySetId: preparsedId }), () => null);
  } catch (error) {
    // Cedar throws on some input it cannot read (a lone surrogate in a string) instead of failing.
    return { decision: "deny", policies: [], errors: [{ policyId: "", message: `Cedar could not read the request: ${error instanceof Error ? error.message : String(error)}` }], unreadable: true };
  }
  if (answer === null) return { decision: "deny", policies: [], errors: [{ policyId: "", message: TOO_DEEP }] };
  if (answer.type === "failure") {
    // Unless the set itself is gone (not parsed again after a restart): then the fault is not the request's.
    const errors = answer.errors.map((e) => ({ policyId: "", message: `Cedar could not read the request: ${e.message}` }));
    return { decision: "deny", policies: [], errors, ...(preparsedSets.has(preparsedId) && { unreadable: true as const }) };
  }
  const { diagnostics } = answer.response;
  const { ids, forbids } = preparsedSets.get(preparsedId) ?? { ids: [], forbids: new Set<string>() };
  const errors = diagnostics.errors.map((e) => ({ policyId: named(ids, e.policyId), message: e.error.message }));
  const failedForbids = diagnostics.errors.filter((e) => forbids.has(e.policyId)).map((e) => named(ids, e.policyId));
  if (answer.response.decision === "allow" && failedForbids.length > 0) return { decision: "deny", policies: failedForbids, errors };
  return { decision: answer.response.decision, policies: diagnostics.reason.map((p) => named(ids, p)), errors };
}

/** The ids Cedar gives the policies of a set: their @id annotation, else policy0, policy1, … */
export function policyIds(text: string): string[] {
  return (parsedPolicies(text) ?? []).map((p) => p.id);
}

/**
 * The entities of `type` that the policies of `text` name, in their scope or their conditions,
 * each with the ids of the policies that name it.
 */
export function entitiesNamed(text: string, type: string): Map<string, string[]> {
  const named = new Map<string, string[]>();
  const collect = (node: unknown, into: Set<string>): void => {
    if (typeof node !== "object" || node === null) return;
    if ("type" in node && "id" in node && node.type === type && typeof node.id === "string") into.add(node.id);
    for (const child of Object.values(node)) collect(child, into);
  };
  // Text Cedar cannot read names nothing it could decide with (it can be neither published nor preparsed).
  for (const policy of parsedPolicies(text) ?? []) {
    const found = new Set<string>();
    collect(policy.json, found);
    for (const id of found) named.set(id, [...(named.get(id) ?? []), policy.id]);
  }
  return named;
}

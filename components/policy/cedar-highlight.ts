// Cedar syntax highlighting for the policy editor: a small tokenizer (Cedar's grammar is tiny),
// so no editor framework is needed for colour. Pure: unit-tested, runs in the browser.

export type TokenKind = "keyword" | "effect" | "string" | "comment" | "annotation" | "entity" | "number" | "plain";
export type Token = { kind: TokenKind; text: string };

const RULES: [TokenKind, RegExp][] = [
  ["comment", /^\/\/[^\n]*/],
  ["string", /^"(?:[^"\\\n]|\\.)*"?/],
  ["annotation", /^@[A-Za-z_]\w*/],
  ["entity", /^[A-Za-z_]\w*(?:::[A-Za-z_]\w*)+/],
  ["effect", /^(?:permit|forbid)\b/],
  ["keyword", /^(?:when|unless|principal|action|resource|context|in|has|like|is|if|then|else|true|false)\b/],
  ["number", /^\d+/],
  ["plain", /^[A-Za-z_]\w*/],
  ["plain", /^\s+/],
  ["plain", /^./],
];

export function tokenizeCedar(source: string): Token[] {
  const tokens: Token[] = [];
  let rest = source;
  while (rest.length > 0) {
    for (const [kind, pattern] of RULES) {
      const match = pattern.exec(rest);
      if (!match) continue;
      const last = tokens.at(-1);
      if (kind === "plain" && last?.kind === "plain") last.text += match[0];
      else tokens.push({ kind, text: match[0] });
      rest = rest.slice(match[0].length);
      break;
    }
  }
  return tokens;
}

/**
 * `WWW-Authenticate` challenges (RFC 9110 §11.6.1, §11.2): `Bearer realm="https://auth.example/token",
 * service="registry.example",scope="repository:a/b:pull,push"` — a scheme, then comma-separated
 * `name=value` parameters whose values may be quoted strings holding commas and `\`-escapes. A header
 * may carry several challenges (`Basic realm="x", Bearer realm="y"`).
 */

export interface AuthChallenge {
  /** The scheme in lower case: `bearer`, `basic`, ... */
  readonly scheme: string;
  /** Parameter names in lower case; values unquoted. */
  readonly parameters: Readonly<Record<string, string>>;
}

/** Attacker-controlled: a challenge longer than this is not parsed at all. */
const MAX_HEADER_LENGTH = 16 * 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

/** Every challenge in `header` (one header value, or several joined by the caller); malformed ones are skipped. */
export function parseAuthChallenges(header: string | readonly string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  const values = typeof header === 'string' ? [header] : header;
  const challenges: AuthChallenge[] = [];
  for (const value of values) {
    if (value.length > MAX_HEADER_LENGTH) continue;
    challenges.push(...parseOne(value));
  }
  return challenges;
}

function parseOne(text: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let rest = text;
  let current: { scheme: string; parameters: Record<string, string> } | undefined;
  for (;;) {
    rest = rest.replace(/^[\s,]+/, '');
    if (rest.length === 0) break;
    const token = TOKEN.exec(rest)?.[0];
    if (!token) return challenges; // unparseable from here on: keep what was understood
    const afterToken = rest.slice(token.length);
    const parameter = /^\s*=\s*/.exec(afterToken);
    if (current && parameter) {
      rest = afterToken.slice(parameter[0].length);
      const value = readValue(rest);
      if (!value) return finish(challenges, current);
      current.parameters[token.toLowerCase()] = value.value;
      rest = rest.slice(value.length);
      continue;
    }
    // A token not followed by `=` starts a new challenge (token68 credentials are not used by registries).
    if (current) challenges.push(freeze(current));
    current = { scheme: token.toLowerCase(), parameters: Object.create(null) as Record<string, string> };
    rest = afterToken;
  }
  return finish(challenges, current);
}

function readValue(text: string): { value: string; length: number } | undefined {
  if (text.startsWith('"')) {
    let value = '';
    for (let index = 1; index < text.length; index++) {
      const char = text[index]!;
      if (char === '\\' && index + 1 < text.length) {
        value += text[++index];
      } else if (char === '"') {
        return { value, length: index + 1 };
      } else {
        value += char;
      }
    }
    return undefined; // unterminated quoted string
  }
  const token = TOKEN.exec(text)?.[0];
  return token === undefined ? undefined : { value: token, length: token.length };
}

function finish(
  challenges: AuthChallenge[],
  current: { scheme: string; parameters: Record<string, string> } | undefined,
): AuthChallenge[] {
  if (current) challenges.push(freeze(current));
  return challenges;
}

function freeze(challenge: { scheme: string; parameters: Record<string, string> }): AuthChallenge {
  return Object.freeze({ scheme: challenge.scheme, parameters: Object.freeze({ ...challenge.parameters }) });
}

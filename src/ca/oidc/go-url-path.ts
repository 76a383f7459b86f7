import { posix } from 'node:path';

/**
 * `url.JoinPath` of Go's net/url followed by `String()`, for `https://host` bases: the elements are
 * joined as escaped path text and cleaned like `path.Join` (duplicate slashes, `.` and `..` removed; a
 * trailing slash kept), then written the way `EscapedPath` writes it: as given when that is a valid
 * escaped path, else re-escaped. Returns undefined where Go fails (a bad `%` escape).
 */
export function goJoinPath(base: string, ...elements: readonly string[]): string | undefined {
  const parts = [base.replace(/^[a-z]+:\/\/[^/]*/i, '') || '/', ...elements];
  let joined = posix.join(...parts);
  if (elements.at(-1)?.endsWith('/') && !joined.endsWith('/')) joined += '/';
  const origin = /^[a-z]+:\/\/[^/]*/i.exec(base)?.[0] ?? '';
  if (isValidEncoded(joined)) {
    return unescape(joined) === undefined ? undefined : origin + joined;
  }
  const decoded = unescape(joined);
  return decoded === undefined ? undefined : origin + escapePath(decoded);
}

// net/url shouldEscape(c, encodePath): unreserved and "$&+,/:;=@" stay, everything else is escaped.
function shouldEscape(byte: number): boolean {
  if ((byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39))
    return false;
  return !'-_.~$&+,/:;=@'.includes(String.fromCharCode(byte));
}

// net/url validEncoded(s, encodePath): sub-delims, ":" "@" "[" "]" and "%" are allowed as they are.
function isValidEncoded(path: string): boolean {
  for (const byte of Buffer.from(path, 'utf8')) {
    if ("!$&'()*+,;=:@[]%".includes(String.fromCharCode(byte))) continue;
    if (shouldEscape(byte)) return false;
  }
  return true;
}

function unescape(path: string): string | undefined {
  if (/%(?![0-9A-Fa-f]{2})/.test(path)) return undefined;
  const bytes: number[] = [];
  const raw = Buffer.from(path, 'utf8');
  for (let index = 0; index < raw.length; index++) {
    if (raw[index] === 0x25) {
      bytes.push(Number.parseInt(String.fromCharCode(raw[index + 1]!, raw[index + 2]!), 16));
      index += 2;
    } else bytes.push(raw[index]!);
  }
  return Buffer.from(bytes).toString('latin1');
}

function escapePath(decoded: string): string {
  let out = '';
  for (const byte of Buffer.from(decoded, 'latin1')) {
    out += shouldEscape(byte)
      ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
      : String.fromCharCode(byte);
  }
  return out;
}

/**
 * The subset of Go's text/template that Fulcio's CI-provider configs use (sigstore/fulcio
 * `pkg/identity/ciprovider/principal.go`, `config/identity/config.yaml`), with `missingkey=error`:
 *
 * - `{{ .claim }}`, `{{.claim}}`: a value; a name the data lacks is an error
 * - `{{ index . "claim.with.dots" }}`: a value; a missing key yields "" (Go's `index` on a map)
 * - `{{ if COND }}…{{ else if COND }}…{{ else }}…{{ end }}` with `eq A B…`, `ne A B`, `not A`, `and`, `or`
 * - string literals `"…"` and `` `…` ``, parentheses, `{{/* comments *\/}}`, trim markers `{{-` `-}}`
 *
 * Anything else (variables, `range`, `with`, pipes, other functions) is a syntax error at load time, so a
 * config Sigil cannot evaluate exactly is rejected up front instead of rendering something else.
 */

export type TemplateData = Readonly<Record<string, string>>;

export class TemplateSyntaxError extends Error {}

/** A name the template needs that the data does not have (Go: `map has no entry for key`). */
export class TemplateMissingKeyError extends Error {
  constructor(readonly key: string) {
    super(`map has no entry for key "${key}"`);
  }
}

export interface CompiledTemplate {
  readonly source: string;
  execute(data: TemplateData): string;
}

type Expr =
  | { kind: 'dot' }
  | { kind: 'field'; name: string }
  | { kind: 'string'; value: string }
  | { kind: 'call'; fn: FunctionName; args: Expr[] };
type FunctionName = 'eq' | 'ne' | 'not' | 'and' | 'or' | 'index';
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'print'; expr: Expr }
  | { kind: 'if'; cond: Expr; then: Node[]; otherwise: Node[] };
type Value = string | boolean | TemplateData;

const FUNCTIONS = new Set<string>(['eq', 'ne', 'not', 'and', 'or', 'index']);
const TOKEN =
  /\s*(?:(\()|(\))|("(?:[^"\\]|\\.)*")|(`[^`]*`)|(\.[A-Za-z_][A-Za-z0-9_]*)|(\.)|([A-Za-z_][A-Za-z0-9_]*))/y;

export function compileTemplate(source: string): CompiledTemplate {
  const actions = splitActions(source);
  let position = 0;
  const parseNodes = (terminators: readonly string[]): { nodes: Node[]; stop: string } => {
    const nodes: Node[] = [];
    while (position < actions.length) {
      const item = actions[position++]!;
      if (item.kind === 'text') {
        if (item.text !== '') nodes.push({ kind: 'text', text: item.text });
        continue;
      }
      const words = item.body.trim();
      if (words.startsWith('/*')) {
        if (!words.endsWith('*/')) throw new TemplateSyntaxError('unclosed comment');
        continue;
      }
      const head = /^(if|else|end)\b\s*(.*)$/s.exec(words);
      if (head?.[1] === 'end' || head?.[1] === 'else') {
        if (!terminators.includes(head[1])) throw new TemplateSyntaxError(`unexpected {{${head[1]}}}`);
        if (head[1] === 'end' && head[2] !== '') throw new TemplateSyntaxError('unexpected words after end');
        if (head[1] === 'else' && head[2] !== '') {
          // `{{else if X}}` nests an if that shares the outer `{{end}}`.
          const elseIf = /^if\b\s*(.*)$/s.exec(head[2] ?? '');
          if (!elseIf) throw new TemplateSyntaxError(`unexpected "${head[2]}" after else`);
          return { nodes, stop: `else if:${elseIf[1] ?? ''}` };
        }
        return { nodes, stop: head[1] };
      }
      if (head?.[1] === 'if') nodes.push(parseIf(head[2] ?? ''));
      else {
        const expr = parseExpression(words);
        if (expr.kind === 'dot') throw new TemplateSyntaxError('printing "." is not supported');
        nodes.push({ kind: 'print', expr });
      }
    }
    if (terminators.length > 0) throw new TemplateSyntaxError('missing {{end}}');
    return { nodes, stop: '' };
  };
  const parseIf = (condition: string): Node => {
    const cond = parseExpression(condition);
    const then = parseNodes(['else', 'end']);
    let otherwise: Node[] = [];
    if (then.stop === 'else') otherwise = parseNodes(['end']).nodes;
    else if (then.stop.startsWith('else if:')) otherwise = [parseIf(then.stop.slice('else if:'.length))];
    return { kind: 'if', cond, then: then.nodes, otherwise };
  };
  const { nodes } = parseNodes([]);
  return {
    source,
    execute: (data) => render(nodes, data),
  };
}

type Piece = { kind: 'text'; text: string } | { kind: 'action'; body: string };

function splitActions(source: string): Piece[] {
  const pieces: Piece[] = [];
  let rest = source;
  while (rest !== '') {
    const open = rest.indexOf('{{');
    if (open < 0) {
      pieces.push({ kind: 'text', text: rest });
      break;
    }
    let text = rest.slice(0, open);
    let body = rest.slice(open + 2);
    // Go: "{{- " trims the text before, " -}}" the text after; the dash needs a space beside it.
    if (/^-\s/.test(body)) {
      text = text.trimEnd();
      body = body.slice(1);
    }
    const close = body.indexOf('}}');
    if (close < 0) throw new TemplateSyntaxError('unclosed action');
    let inner = body.slice(0, close);
    rest = body.slice(close + 2);
    if (/\s-$/.test(inner)) {
      inner = inner.slice(0, -1);
      rest = rest.trimStart();
    }
    pieces.push({ kind: 'text', text }, { kind: 'action', body: inner });
  }
  return pieces;
}

function parseExpression(source: string): Expr {
  const tokens = tokenize(source);
  let position = 0;
  const operand = (): Expr => {
    const token = tokens[position++];
    if (token === undefined) throw new TemplateSyntaxError('missing value');
    if (token === '(') {
      const inner = command([')']);
      if (tokens[position++] !== ')') throw new TemplateSyntaxError('unclosed left paren');
      return inner;
    }
    if (token === '.') return { kind: 'dot' };
    if (token.startsWith('.')) return { kind: 'field', name: token.slice(1) };
    if (token.startsWith('"')) return { kind: 'string', value: parseQuoted(token) };
    if (token.startsWith('`')) return { kind: 'string', value: token.slice(1, -1) };
    throw new TemplateSyntaxError(`unexpected "${token}"`);
  };
  const command = (stop: readonly string[]): Expr => {
    const first = tokens[position];
    if (first !== undefined && FUNCTIONS.has(first)) {
      position++;
      const args: Expr[] = [];
      while (position < tokens.length && !stop.includes(tokens[position]!)) args.push(operand());
      checkArity(first as FunctionName, args.length);
      return { kind: 'call', fn: first as FunctionName, args };
    }
    if (first !== undefined && /^[A-Za-z_]/.test(first))
      throw new TemplateSyntaxError(`function "${first}" not supported`);
    return operand();
  };
  const expr = command([]);
  if (position !== tokens.length) throw new TemplateSyntaxError(`unexpected "${tokens[position]}"`);
  return expr;
}

function tokenize(source: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length) {
    const start = TOKEN.lastIndex;
    if (/^\s*$/.test(source.slice(start))) break;
    const match = TOKEN.exec(source);
    if (!match) throw new TemplateSyntaxError(`unexpected "${source.slice(start).trim().slice(0, 20)}"`);
    tokens.push(match.slice(1).find((group) => group !== undefined)!);
  }
  if (tokens.length === 0) throw new TemplateSyntaxError('missing value for command');
  return tokens;
}

function parseQuoted(token: string): string {
  try {
    return JSON.parse(token) as string;
  } catch {
    throw new TemplateSyntaxError(`unsupported escape in string ${token}`);
  }
}

function checkArity(fn: FunctionName, count: number): void {
  const ok =
    fn === 'not' ? count === 1 : fn === 'eq' || fn === 'and' || fn === 'or' ? count >= 2 : count === 2;
  if (!ok) throw new TemplateSyntaxError(`wrong number of arguments for ${fn}: ${count}`);
}

function render(nodes: readonly Node[], data: TemplateData): string {
  let out = '';
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out += node.text;
        break;
      case 'print':
        out += printable(evaluate(node.expr, data));
        break;
      case 'if':
        out += render(truthy(evaluate(node.cond, data)) ? node.then : node.otherwise, data);
        break;
    }
  }
  return out;
}

function evaluate(expr: Expr, data: TemplateData): Value {
  switch (expr.kind) {
    case 'dot':
      return data;
    case 'string':
      return expr.value;
    case 'field': {
      const value = Object.hasOwn(data, expr.name) ? data[expr.name] : undefined;
      if (value === undefined) throw new TemplateMissingKeyError(expr.name);
      return value;
    }
    case 'call':
      return call(expr.fn, expr.args, data);
  }
}

function call(fn: FunctionName, args: readonly Expr[], data: TemplateData): Value {
  const values = (): Value[] => args.map((arg) => evaluate(arg, data));
  switch (fn) {
    case 'index': {
      const [collection, key] = values();
      if (typeof collection !== 'object' || typeof key !== 'string')
        throw new TemplateSyntaxError('index: expected a map and a string key');
      return Object.hasOwn(collection, key) ? (collection[key] ?? '') : '';
    }
    case 'eq': {
      const [first, ...rest] = values();
      return rest.some((other) => comparable(other) === comparable(first!));
    }
    case 'ne': {
      const [first, second] = values();
      return comparable(first!) !== comparable(second!);
    }
    case 'not':
      return !truthy(evaluate(args[0]!, data));
    case 'and': {
      // Go 1.18+: `and` and `or` stop at the first deciding argument and return it.
      let last: Value = '';
      for (const arg of args) if (!truthy((last = evaluate(arg, data)))) return last;
      return last;
    }
    case 'or': {
      let last: Value = '';
      for (const arg of args) if (truthy((last = evaluate(arg, data)))) return last;
      return last;
    }
  }
}

function comparable(value: Value): string | boolean {
  if (typeof value === 'object') throw new TemplateSyntaxError('eq: cannot compare a map');
  return value;
}

function truthy(value: Value): boolean {
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return typeof value === 'boolean' ? value : value !== '';
}

function printable(value: Value): string {
  if (typeof value === 'object') throw new TemplateSyntaxError('printing a map is not supported');
  return String(value);
}

import { celEnv, celFunc, CelScalar, celType, isCelError, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

import { describeError } from '../core/index.ts';
import { PolicyError } from './errors.ts';

/**
 * `policy: {type: cel, data: EXPR}` in a ClusterImagePolicy: over a verified attestation's in-toto
 * statement (`attestations[].policy`) or over the PolicyResult of the authorities that matched
 * (`spec.policy`). Upstream policy-controller runs CUE or Rego there against the same JSON; Sigil runs CEL
 * (cel-spec, with the `strings` extension). The input's top-level fields are the expression's variables
 * (`predicateType`, `predicate`, `subject`, or `authorityMatches`, `config`, `spec`, `metadata`,
 * `typemeta`), and `input` is the whole document. JSON numbers are CEL doubles (as cel-go's
 * `structpb`), which compare equal to ints (`predicate.count == 1`).
 *
 * The expression MUST evaluate to a bool; `true` passes. Anything else fails with a reason: `false`,
 * another type, an error (a missing field, a type mismatch), input that is not JSON data, or work
 * beyond the budget. Evaluation never throws.
 */

/** Variables of an attestation policy: the in-toto statement's fields. */
export const ATTESTATION_POLICY_VARIABLES = [
  'input',
  '_type',
  'predicateType',
  'subject',
  'predicate',
] as const;
/** Variables of a ClusterImagePolicy-level policy: upstream PolicyResult's JSON fields. */
export const POLICY_RESULT_VARIABLES = [
  'input',
  'authorityMatches',
  'config',
  'spec',
  'metadata',
  'typemeta',
] as const;

export const CEL_LIMITS = Object.freeze({
  /** Characters of expression source. */
  sourceLength: 16_384,
  /** Nodes of the parsed expression (macros expanded). */
  nodes: 2_000,
  /** Nesting of the parsed expression. */
  depth: 64,
  /** Comprehension iterations (`all`, `exists`, `map`, `filter`, ...) per evaluation, over all loops. */
  iterations: 100_000,
  /** Wall-clock milliseconds per evaluation: a safety net for the work one iteration may do. */
  milliseconds: 250,
  /** Values (scalars, lists, maps) in the input document. */
  inputValues: 1_000_000,
  /** Nesting of the input document. */
  inputDepth: 128,
});

export interface CelPolicy {
  /** The expression as written. */
  readonly source: string;
  /** Where the expression was written (`spec.authorities[0].attestations[0].policy.data`), for reasons. */
  readonly field: string;
}

type Program = (bindings: Record<string, unknown>) => unknown;
/** The planned expression of each compiled policy, out of reach of callers. */
const programs = new WeakMap<CelPolicy, Program>();

export type CelPolicyOutcome = { passed: true } | { passed: false; reason: string };

export interface CompileCelPolicyOptions {
  /**
   * When given, an identifier outside this list (and outside the expression's own loop variables) is a
   * compile error, so a typo fails at load time rather than at every admission. Default: any.
   */
  variables?: readonly string[];
}

/** CEL's type names, which are identifiers too (`type(x) == string`). */
const TYPE_IDENTIFIERS = [
  'bool',
  'bytes',
  'double',
  'dyn',
  'int',
  'list',
  'map',
  'null_type',
  'string',
  'type',
  'uint',
];
/** Calls wrapped around each loop condition; `@` keeps it out of reach of expressions. */
const TICK = '@sigil_tick';
/** Operators the planner evaluates itself (cel-es planner.ts), not through the function resolver. */
const PLANNER_OPERATORS = new Set([
  '_[_]',
  '_[?_]',
  '_?._',
  '_?_:_',
  '_&&_',
  '_||_',
  '@not_strictly_false',
  '__not_strictly_false__',
]);

interface Budget {
  iterations: number;
  deadline: number;
  exceeded?: string;
}
/** The budget of the evaluation running now; evaluation is synchronous, so one at a time. */
let budget: Budget | undefined;

const ENV = celEnv({
  funcs: [
    ...strings,
    celFunc(TICK, [CelScalar.DYN], CelScalar.DYN, (value) => {
      if (budget === undefined) return value;
      budget.iterations -= 1;
      if (budget.iterations < 0) {
        budget.exceeded ??= `more than ${CEL_LIMITS.iterations} loop iterations`;
      } else if ((budget.iterations & 0xf) === 0 && performance.now() > budget.deadline) {
        budget.exceeded ??= `more than ${CEL_LIMITS.milliseconds} ms`;
      }
      if (budget.exceeded !== undefined) throw new Error(`evaluation budget exceeded: ${budget.exceeded}`);
      return value;
    }),
  ],
});

type Expr = ReturnType<typeof parse>['expr'];

/**
 * Parses and plans `source` once. Throws PolicyError POLICY_INVALID naming `field` and the CEL error
 * for a syntax error, an unknown function, an undeclared variable (with `options.variables`), or an
 * expression beyond CEL_LIMITS.
 */
export function compileCelPolicy(
  source: string,
  field: string,
  options: CompileCelPolicyOptions = {},
): CelPolicy {
  const invalid = (problem: string) =>
    new PolicyError('POLICY_INVALID', `${field}: invalid CEL expression: ${problem}`);
  if (typeof source !== 'string' || source.trim() === '')
    throw invalid('expected an expression, received none');
  if (source.length > CEL_LIMITS.sourceLength) {
    throw invalid(`expected at most ${CEL_LIMITS.sourceLength} characters, received ${source.length}`);
  }
  let expr: Expr;
  try {
    expr = parse(source).expr;
  } catch (error) {
    throw invalid(error instanceof RangeError ? 'expression too deeply nested' : describeError(error));
  }
  const problem = inspect(expr, options.variables);
  if (problem) throw invalid(problem);
  let program: Program;
  try {
    program = plan(ENV, expr) as Program;
  } catch (error) {
    throw invalid(describeError(error));
  }
  const policy: CelPolicy = Object.freeze({ source, field });
  programs.set(policy, program);
  return policy;
}

/**
 * Runs `policy` over `input` (a JSON object: the in-toto statement, or the PolicyResult). MUST NOT
 * throw: every way of not returning `true` is `{ passed: false, reason }`.
 */
export function evaluateCelPolicy(policy: CelPolicy, input: unknown): CelPolicyOutcome {
  const fail = (problem: string): CelPolicyOutcome => ({
    passed: false,
    reason: `${policy.field}: ${problem}`,
  });
  const program = programs.get(policy);
  if (!program) return fail('the policy was not compiled by compileCelPolicy');
  const bindings = bindingsOf(input);
  if (typeof bindings === 'string') return fail(bindings);
  budget = { iterations: CEL_LIMITS.iterations, deadline: performance.now() + CEL_LIMITS.milliseconds };
  let result: unknown;
  try {
    result = program(bindings);
  } catch (error) {
    result = error;
  } finally {
    const exceeded = budget.exceeded;
    budget = undefined;
    if (exceeded !== undefined) result = new Error(`evaluation budget exceeded: ${exceeded}`);
  }
  if (result === true) return { passed: true };
  if (result === false) return fail(`expression evaluated to false: ${preview(policy.source)}`);
  if (isCelError(result) || result instanceof Error) return fail(`evaluation error: ${result.message}`);
  return fail(`expected the expression to evaluate to a bool, received ${describeCelType(result)}`);
}

/**
 * Free identifiers, functions, size and depth of a parsed expression, walked without recursion (the
 * parser accepts deeper trees than a recursive walk would survive).
 */
function inspect(root: Expr, variables: readonly string[] | undefined): string | undefined {
  const declared = variables ? new Set([...variables, ...TYPE_IDENTIFIERS]) : undefined;
  let nodes = 0;
  let nextId = 1n;
  const loops: Expr['exprKind'][] = [];
  const stack: { expr: Expr; depth: number; scope: ReadonlySet<string> }[] = [
    { expr: root, depth: 1, scope: new Set() },
  ];
  while (stack.length > 0) {
    const { expr, depth, scope } = stack.pop()!;
    nodes += 1;
    if (nodes > CEL_LIMITS.nodes) return `expected at most ${CEL_LIMITS.nodes} nodes`;
    if (depth > CEL_LIMITS.depth) return `expected nesting of at most ${CEL_LIMITS.depth}`;
    if (expr.id >= nextId) nextId = expr.id + 1n;
    const push = (child: Expr | undefined, inner: ReadonlySet<string> = scope) => {
      if (child) stack.push({ expr: child, depth: depth + 1, scope: inner });
    };
    const kind = expr.exprKind;
    switch (kind.case) {
      case 'identExpr':
        if (declared && !scope.has(kind.value.name) && !declared.has(kind.value.name)) {
          return `undeclared reference to ${kind.value.name} (expected one of ${variables?.join(', ')})`;
        }
        break;
      case 'selectExpr':
        push(kind.value.operand);
        break;
      case 'callExpr': {
        const name = kind.value.function;
        if (!PLANNER_OPERATORS.has(name) && !isKnownFunction(name, kind.value.target)) {
          return `unknown function ${name}`;
        }
        push(kind.value.target);
        for (const arg of kind.value.args) push(arg);
        break;
      }
      case 'listExpr':
        for (const element of kind.value.elements) push(element);
        break;
      case 'structExpr':
        if (kind.value.messageName !== '')
          return `message construction (${kind.value.messageName}) is not supported`;
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') push(entry.keyKind.value);
          push(entry.value);
        }
        break;
      case 'comprehensionExpr': {
        const loop = kind.value;
        const inner = new Set([...scope, loop.iterVar, loop.iterVar2, loop.accuVar].filter(Boolean));
        push(loop.iterRange);
        push(loop.accuInit);
        push(loop.loopCondition, inner);
        push(loop.loopStep, inner);
        push(loop.result, new Set([...scope, loop.accuVar]));
        loops.push(kind);
        break;
      }
      case 'constExpr':
      case undefined:
        break;
    }
  }
  for (const kind of loops) meterLoop(kind, () => nextId++);
  return undefined;
}

function isKnownFunction(name: string, target: Expr | undefined): boolean {
  if (ENV.funcs.find(name) !== undefined) return true;
  const qualifier = target ? qualifiedName(target) : undefined;
  return qualifier !== undefined && ENV.funcs.find(`${qualifier}.${name}`) !== undefined;
}

function qualifiedName(expr: Expr): string | undefined {
  const kind = expr.exprKind;
  if (kind.case === 'identExpr') return kind.value.name;
  if (kind.case !== 'selectExpr' || !kind.value.operand) return undefined;
  const operand = qualifiedName(kind.value.operand);
  return operand === undefined ? undefined : `${operand}.${kind.value.field}`;
}

/** Wraps a loop's condition in the budget call: the planner evaluates it once per iteration. */
function meterLoop(kind: Expr['exprKind'], newId: () => bigint): void {
  if (kind.case !== 'comprehensionExpr' || !kind.value.loopCondition) return;
  const condition = kind.value.loopCondition;
  kind.value.loopCondition = {
    ...condition,
    id: newId(),
    exprKind: {
      case: 'callExpr',
      value: { $typeName: 'cel.expr.Expr.Call', function: TICK, args: [condition] },
    },
  };
}

/**
 * The variables for `input`: its fields, and `input` itself. Returns a problem when `input` is not a
 * JSON object within CEL_LIMITS. Objects become Maps, so no key resolves through a prototype.
 */
function bindingsOf(input: unknown): Record<string, unknown> | string {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return `expected a JSON object as input, received ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}`;
  }
  const converted = toCelData(input);
  if (typeof converted === 'string') return converted;
  const bindings: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of converted as Map<string, unknown>) bindings[key] = value;
  bindings.input = converted;
  return bindings;
}

/** JSON data as CEL input (arrays, Maps, scalars), iteratively and within the input limits. */
function toCelData(root: object): unknown {
  let values = 0;
  const convert = (value: unknown, depth: number, path: string): unknown => {
    values += 1;
    if (values > CEL_LIMITS.inputValues)
      throw new InputProblem(`input has more than ${CEL_LIMITS.inputValues} values`);
    if (depth > CEL_LIMITS.inputDepth)
      throw new InputProblem(`input nests deeper than ${CEL_LIMITS.inputDepth} at ${path}`);
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'number') {
      if (Number.isFinite(value)) return value;
      throw new InputProblem(`input has a non-finite number at ${path}`);
    }
    if (Array.isArray(value)) return new Array<unknown>(value.length);
    if (typeof value === 'object' && isPlainObject(value)) return new Map<string, unknown>();
    throw new InputProblem(`input is not JSON data at ${path} (${typeof value})`);
  };
  try {
    const top = convert(root, 0, '$');
    const pending: { source: object; target: unknown; depth: number; path: string }[] = [
      { source: root, target: top, depth: 0, path: '$' },
    ];
    while (pending.length > 0) {
      const { source, target, depth, path } = pending.pop()!;
      const entries: [string, unknown][] = Array.isArray(source)
        ? source.map((value, index) => [String(index), value])
        : Object.entries(source).filter(([, value]) => value !== undefined);
      for (const [key, value] of entries) {
        const childPath = Array.isArray(source) ? `${path}[${key}]` : `${path}.${key}`;
        const child = convert(value, depth + 1, childPath);
        if (Array.isArray(target)) target[Number(key)] = child;
        else (target as Map<string, unknown>).set(key, child);
        if (child !== null && typeof child === 'object') {
          pending.push({ source: value as object, target: child, depth: depth + 1, path: childPath });
        }
      }
    }
    return top;
  } catch (error) {
    if (error instanceof InputProblem) return error.message;
    throw error;
  }
}

class InputProblem extends Error {}

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function describeCelType(value: unknown): string {
  try {
    return celType(value as Parameters<typeof celType>[0]).name;
  } catch {
    return typeof value;
  }
}

function preview(source: string): string {
  const line = source.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

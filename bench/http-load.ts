// Shared by the HTTP benchmarks: wrk runs over pre-made bodies, the server's metrics, medians.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run } from '../test/tools/service.ts';
import { toolPath } from '../test/tools/tools.ts';
import type { RunningSigil } from '../test/tools/sigil-process.ts';

/** wrk's figures for one run (bench/wrk/post-bodies.lua prints them). */
export interface WrkResult {
  requests: number;
  durationMicros: number;
  statusErrors: number;
  socketErrors: number;
  p50Micros: number;
  p99Micros: number;
}

export interface WrkRun {
  url: string;
  path: string;
  /** A file with one request body per line. */
  bodiesFile: string;
  connections: number;
  threads: number;
  seconds: number;
}

/**
 * POSTs the bodies with wrk (C; a Node client would take most of a core of this 2-core machine from
 * the server it measures): `connections` clients, each sending its next body as soon as its last
 * response arrived.
 */
export function runWrk(options: WrkRun): Promise<{ result: WrkResult; output: string }> {
  return wrk<WrkResult>('post-bodies.lua', options, [options.bodiesFile, String(options.threads)]);
}

/**
 * wrk with one of bench/wrk's scripts, which gets `path` and then `scriptArgs`; the JSON line its
 * `done` prints.
 */
async function wrk<Result>(
  script: string,
  load: { url: string; path: string; threads: number; connections: number; seconds: number },
  scriptArgs: string[],
): Promise<{ result: Result; output: string }> {
  const output = await run(toolPath('wrk'), [
    `-t${load.threads}`,
    `-c${load.connections}`,
    `-d${load.seconds}s`,
    '--timeout',
    '10s',
    '-s',
    fileURLToPath(new URL(`./wrk/${script}`, import.meta.url)),
    load.url,
    '--',
    load.path,
    ...scriptArgs,
  ]);
  const line = output.split('\n').find((text) => text.startsWith('{"requests"'));
  if (!line) throw new Error(`wrk printed no result line:\n${output}`);
  return { result: JSON.parse(line) as Result, output };
}

/** The paced script's figures for one run (bench/wrk/paced-reviews.lua prints them). */
export interface PacedResult {
  requests: number;
  /** Answers timed (those due after the run's warm-up). */
  timed: number;
  durationMicros: number;
  statusErrors: number;
  socketErrors: number;
  /** Answers whose uid names no request sent (a wrong echo). */
  unmatched: number;
  p50Micros: number;
  p90Micros: number;
  p99Micros: number;
  p999Micros: number;
  maxMicros: number;
}

export interface PacedRun {
  url: string;
  path: string;
  /** A file whose first line is a request body with uid `paced-@SEQ@`. */
  templateFile: string;
  connections: number;
  /** Requests per second, all connections together. */
  rate: number;
  seconds: number;
  /** Requests due in the run's first seconds are sent but not timed. */
  warmupSeconds: number;
}

/**
 * Sends `rate` requests a second with wrk over `connections` connections (open-loop pacing, one wrk
 * thread), each timed from when it was due: a late answer also delays the requests queued behind it.
 */
export function runPacedWrk(options: PacedRun): Promise<{ result: PacedResult; output: string }> {
  return wrk<PacedResult>('paced-reviews.lua', { ...options, threads: 1 }, [
    options.templateFile,
    String(options.rate),
    String(options.warmupSeconds),
  ]);
}

export { median } from './report.ts';

/** The server's Prometheus counters and gauges by name, with labels as written (`name{stage="ct"}`). */
export async function scrape(sigil: RunningSigil): Promise<Map<string, number>> {
  const text = await (await fetch(`${sigil.url}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$/.exec(line);
    if (match) values.set(match[1]!, Number(match[2]));
  }
  return values;
}

/** /proc/stat's first line: the machine's CPU time so far by kind (user, nice, system, idle, …, steal). */
export function machineTimes(): number[] {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  return line.trim().split(/\s+/).slice(1).map(Number);
}

/** Share of the machine's CPU time the hypervisor gave to others between two machineTimes(). */
export function stealShare(before: readonly number[], after: readonly number[]): number {
  return timeShare(before, after, 7);
}

/**
 * Share of the machine's CPU time left idle between two machineTimes(): with a fixed number of
 * clients, idle cores while the figure is short mean requests waited on something other than CPU.
 */
export function idleShare(before: readonly number[], after: readonly number[]): number {
  return timeShare(before, after, 3);
}

function timeShare(before: readonly number[], after: readonly number[], field: number): number {
  const spent = after.map((value, index) => value - (before[index] ?? 0));
  return (spent[field] ?? 0) / spent.reduce((sum, value) => sum + value, 0);
}

export const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** User + system CPU seconds of one /proc stat file's process or thread. */
export function statCpuSeconds(statFile: string): number {
  const stat = readFileSync(statFile, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds a process has used so far: all its threads, and its main thread alone (Linux /proc). */
export function processCpu(pid: number): { total: number; mainThread: number } {
  return {
    total: statCpuSeconds(`/proc/${pid}/stat`),
    mainThread: statCpuSeconds(`/proc/${pid}/task/${pid}/stat`),
  };
}

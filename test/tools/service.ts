import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';

/** A child process started for a test, with its recent output kept for failure messages. */
export interface Service {
  name: string;
  process: ChildProcess;
  /** The last lines it printed on stdout and stderr. */
  output(): string;
  /** The stop signal, then SIGKILL after `graceMs` (default 10 s); resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface ServiceOptions extends SpawnOptions {
  /** The signal that asks for a clean shutdown. Default SIGTERM. */
  stopSignal?: NodeJS.Signals;
}

export function startService(
  name: string,
  command: string,
  args: readonly string[],
  options: ServiceOptions = {},
): Service {
  const { stopSignal = 'SIGTERM', ...spawnOptions } = options;
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (error) => lines.push(`spawn error: ${error.message}`));
  return {
    name,
    process: child,
    output: () => lines.join('\n'),
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(stopSignal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Polls `probe` until it returns true, failing after `timeoutMs` with the service's output, or at once
 * if the service exits first.
 */
export async function waitUntil(
  service: Service,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (service.process.exitCode !== null || service.process.signalCode !== null) {
      throw new Error(
        `${service.name} exited (${service.process.exitCode ?? service.process.signalCode}) before ${what}:\n${service.output()}`,
      );
    }
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await delay(200);
  }
  throw new Error(
    `${service.name}: timed out after ${timeoutMs} ms waiting for ${what} (${lastError}):\n${service.output()}`,
  );
}

/** Runs a command to completion and returns its stdout; rejects with stderr on a non-zero exit. */
export async function run(
  command: string,
  args: readonly string[],
  options: SpawnOptions & { input?: string } = {},
): Promise<string> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
  // A tool that exits without reading its input (htpasswd -Bbn) makes this write fail with EPIPE: not
  // an error of the run, whose exit code says how it went.
  child.stdin?.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') child.emit('error', error);
  });
  child.stdin?.end(options.input ?? '');
  const [code] = (await once(child, 'close')) as [number | null];
  const stdout = Buffer.concat(out).toString('utf8');
  if (code !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited ${code}:\n${Buffer.concat(err).toString('utf8')}${stdout}`,
    );
  }
  return stdout;
}

import { readFile, writeFile, rename } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import { encodeBase64, encodeHex } from '../core/index.ts';
import { LogError, TilesClient } from '../log/index.ts';
import { createNoteVerifier, type Checkpoint } from '../merkle/index.ts';
import { CliError } from './errors.ts';
import type { CliIo } from './program.ts';

interface LogFlags {
  url?: string;
  key?: string;
  origin?: string;
  json?: boolean;
}

const DEFAULT_LOG_URL = 'http://127.0.0.1:7070';

/** `sigil log info|get|verify-inclusion|monitor`: a verifying client of a tlog-tiles log. */
export function addLogCommands(program: Command, io: CliIo): void {
  const log = program.command('log').description('read and check a transparency log (C2SP tlog-tiles)');
  const withClientOptions = (command: Command) =>
    command
      .option('--url <url>', `log base URL (env SIGIL_LOG_URL; default ${DEFAULT_LOG_URL})`)
      .option(
        '--key <vkey>',
        "the log's note verifier key, as `sigil up` prints it, or @FILE (env SIGIL_LOG_KEY)",
      )
      .option('--origin <origin>', 'checkpoint origin to require (default: any)')
      .option('--json', 'print machine-readable JSON');

  withClientOptions(log.command('info').description('fetch and verify the latest checkpoint')).action(
    async (flags: LogFlags) => {
      const { client, url } = await openClient(flags, io);
      const { checkpoint } = await client.checkpoint();
      const info = {
        url,
        origin: checkpoint.origin,
        size: checkpoint.size,
        rootHash: encodeHex(checkpoint.rootHash),
      };
      io.stdout(
        flags.json
          ? `${JSON.stringify(info)}\n`
          : `${info.origin}\n  size  ${info.size}\n  root  ${info.rootHash}\n  verified with ${flags.key ? 'the given key' : ''}\n`.replace(
              'with \n',
              '\n',
            ),
      );
    },
  );

  withClientOptions(
    log.command('get').description('fetch entry INDEX and prove it is in the latest checkpoint'),
  )
    .argument('<index>', 'entry index')
    .action(async (index: string, flags: LogFlags) => {
      const { client } = await openClient(flags, io);
      const { checkpoint } = await client.checkpoint();
      const proven = await client.provenEntry(parseIndex(index), checkpoint);
      const text = tryUtf8(proven.entry);
      if (flags.json) {
        io.stdout(
          `${JSON.stringify({ index: Number(index), treeSize: checkpoint.size, leafHash: encodeHex(proven.leafHash), entry: encodeBase64(proven.entry), proof: proven.proof.map(encodeHex) })}\n`,
        );
      } else {
        io.stdout(`${text ?? encodeBase64(proven.entry)}\n`);
        io.stderr(
          `entry ${index} is included in tree size ${checkpoint.size} (leaf hash ${encodeHex(proven.leafHash)})\n`,
        );
      }
    });

  withClientOptions(
    log.command('verify-inclusion').description('prove entry INDEX is included in the latest checkpoint'),
  )
    .argument('<index>', 'entry index')
    .option('--entry-file <file>', 'also require the entry to equal this file byte for byte')
    .action(async (index: string, flags: LogFlags & { entryFile?: string }) => {
      const { client } = await openClient(flags, io);
      const { checkpoint } = await client.checkpoint();
      const proven = await client.provenEntry(parseIndex(index), checkpoint);
      if (flags.entryFile !== undefined) {
        const expected = await readFile(flags.entryFile);
        if (!expected.equals(proven.entry)) {
          throw new CliError('CLI_CHECK_FAILED', `entry ${index} differs from ${flags.entryFile}`);
        }
      }
      const result = {
        index: Number(index),
        treeSize: checkpoint.size,
        rootHash: encodeHex(checkpoint.rootHash),
        proofLength: proven.proof.length,
      };
      io.stdout(
        flags.json
          ? `${JSON.stringify({ verified: true, ...result })}\n`
          : `verified: entry ${index} is included in tree size ${checkpoint.size} (root ${result.rootHash}, ${result.proofLength} proof hashes)\n`,
      );
    });

  withClientOptions(
    log
      .command('monitor')
      .description(
        "follow the log's checkpoints, proving each new one consistent with the last; exits 1 on inconsistency",
      ),
  )
    .option('--state-file <file>', 'where to keep the last verified checkpoint between runs')
    .option('--interval <seconds>', 'pause between checks', '5')
    .option('--once', 'check once and exit')
    .action(async (flags: LogFlags & { stateFile?: string; interval: string; once?: boolean }) => {
      const { client } = await openClient(flags, io);
      const interval = Number(flags.interval);
      if (!(interval > 0))
        throw new CliError(
          'CLI_OPTION_INVALID',
          `--interval: expected seconds > 0, received ${flags.interval}`,
        );
      let last: Checkpoint | undefined;
      if (flags.stateFile !== undefined) last = await readMonitorState(flags.stateFile, client);
      for (;;) {
        const { checkpoint, note } = await client.checkpoint();
        if (last) await client.proveConsistent(last, checkpoint);
        const line = last
          ? `size ${checkpoint.size}: consistent with size ${last.size}`
          : `size ${checkpoint.size}: first checkpoint, root ${encodeHex(checkpoint.rootHash)}`;
        io.stdout(
          flags.json
            ? `${JSON.stringify({ size: checkpoint.size, previousSize: last?.size ?? null, consistent: true })}\n`
            : `${line}\n`,
        );
        last = checkpoint;
        if (flags.stateFile !== undefined) await writeMonitorState(flags.stateFile, note);
        if (flags.once) return;
        await delay(interval * 1000);
      }
    });
}

async function openClient(flags: LogFlags, io: CliIo): Promise<{ client: TilesClient; url: string }> {
  const url = flags.url ?? io.env.SIGIL_LOG_URL ?? DEFAULT_LOG_URL;
  let key = flags.key ?? io.env.SIGIL_LOG_KEY;
  if (key === undefined) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      '--key: required; pass the `log key` line that `sigil up` prints (or set SIGIL_LOG_KEY)',
    );
  }
  if (key.startsWith('@')) key = (await readFile(key.slice(1), 'utf8')).trim();
  let verifier;
  try {
    verifier = createNoteVerifier(key);
  } catch (cause) {
    throw new CliError('CLI_OPTION_INVALID', `--key: ${(cause as Error).message}`, { cause });
  }
  const origin = flags.origin;
  return {
    client: new TilesClient({
      baseUrl: url,
      verifiers: [verifier],
      ...(origin === undefined ? {} : { origin }),
    }),
    url,
  };
}

function parseIndex(text: string): number {
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `index: expected a non-negative integer, received ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
}

function tryUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

async function readMonitorState(path: string, client: TilesClient): Promise<Checkpoint | undefined> {
  let note: string;
  try {
    note = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return client.verifyCheckpointNote(note);
  } catch (error) {
    if (error instanceof LogError) {
      throw new CliError(
        'CLI_STATE_UNUSABLE',
        `${path} does not hold a checkpoint signed by this log's key: ${error.message}`,
      );
    }
    throw error;
  }
}

async function writeMonitorState(path: string, note: string): Promise<void> {
  await writeFile(`${path}.tmp`, note);
  await rename(`${path}.tmp`, path);
}

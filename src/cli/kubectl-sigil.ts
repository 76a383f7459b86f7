#!/usr/bin/env node
// kubectl plugin entry point: `kubectl sigil ...` runs this binary with the remaining arguments.
import { Command } from 'commander';
import { processIo } from './process-io.ts';
import { runCli } from './program.ts';
import { readVersion } from './version.ts';

const io = processIo();
const version = readVersion();
const program = new Command('kubectl-sigil')
  .description('inspect Sigil admission decisions from kubectl')
  .version(version, '-v, --version')
  .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
program
  .command('version')
  .description('print the plugin version')
  .option('--json', 'print machine-readable JSON')
  .action((flags: { json?: boolean }) => {
    io.stdout(flags.json ? `${JSON.stringify({ version })}\n` : `kubectl-sigil ${version}\n`);
  });
process.exitCode = await runCli(program, process.argv.slice(2), io);

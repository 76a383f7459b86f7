#!/usr/bin/env node
import { processIo } from './process-io.ts';
import { buildProgram, runCli } from './program.ts';

const io = processIo();
process.exitCode = await runCli(buildProgram(io), process.argv.slice(2), io);

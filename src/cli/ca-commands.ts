import { X509Certificate } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CA_FILES, initCertificateAuthority } from '../ca/index.ts';
import { defaultStateDir } from './config.ts';
import { CliError } from './errors.ts';
import { readOptionFile } from './state.ts';
import type { CliIo } from './program.ts';

interface CaInitFlags {
  state?: string;
  dir?: string;
  passphraseFile?: string;
  organization?: string;
  commonName?: string;
  json?: boolean;
}

/** `sigil ca init`: the CA's root and intermediate, with their keys in encrypted PEM files. */
export function addCaCommands(program: Command, io: CliIo): void {
  const ca = program.command('ca').description('manage the keyless certificate authority');
  ca.command('init')
    .description('create a root and an intermediate CA (P-384), keys encrypted with a passphrase')
    .option('--state <dir>', 'state folder (env SIGIL_STATE); the CA goes to <state>/ca')
    .option('--dir <dir>', 'write the CA here instead of <state>/ca')
    .option('--passphrase-file <file>', 'file holding the key passphrase (default: env SIGIL_CA_PASSPHRASE)')
    .option('--organization <name>', 'subject O of both certificates', 'sigil')
    .option(
      '--common-name <name>',
      'subject CN of the root; the intermediate gets <name>-intermediate',
      'sigil',
    )
    .option('--json', 'print machine-readable JSON')
    .action(async (flags: CaInitFlags) => {
      const dir = resolve(
        flags.dir ?? join(flags.state ?? io.env.SIGIL_STATE ?? defaultStateDir(io.env), 'ca'),
      );
      const passphrase = await readPassphrase(flags.passphraseFile, io.env);
      io.stderr(`creating a P-384 root and intermediate in ${dir} ...\n`);
      const files = await initCertificateAuthority({
        dir,
        passphrase,
        organization: flags.organization ?? 'sigil',
        commonName: flags.commonName ?? 'sigil',
      });
      const root = new X509Certificate(files.rootCertificatePem);
      const intermediate = new X509Certificate(files.intermediateCertificatePem);
      const summary = {
        dir,
        files: Object.values(CA_FILES).map((name) => join(dir, name)),
        root: {
          subject: root.subject.replace(/\n/g, ', '),
          sha256: root.fingerprint256,
          validTo: root.validTo,
        },
        intermediate: {
          subject: intermediate.subject.replace(/\n/g, ', '),
          sha256: intermediate.fingerprint256,
        },
      };
      io.stdout(
        flags.json
          ? `${JSON.stringify(summary)}\n`
          : [
              `CA created in ${dir}`,
              `  root          ${summary.root.subject}  (SHA-256 ${summary.root.sha256}, until ${summary.root.validTo})`,
              `  intermediate  ${summary.intermediate.subject}  (SHA-256 ${summary.intermediate.sha256})`,
              '',
              'Keep the passphrase: `sigil up` and `sigil serve ca` need it (SIGIL_CA_PASSPHRASE).',
              '',
            ].join('\n'),
      );
    });
}

/** The CA key passphrase from a file (first line) or SIGIL_CA_PASSPHRASE; an error saying how to give one. */
export async function readPassphrase(file: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  let passphrase: string | undefined;
  if (file !== undefined) {
    passphrase = (await readOptionFile('--passphrase-file', file)).split(/\r?\n/)[0];
  } else passphrase = env.SIGIL_CA_PASSPHRASE;
  if (!passphrase) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      'CA passphrase: set SIGIL_CA_PASSPHRASE or pass --passphrase-file with a file holding it',
    );
  }
  return passphrase;
}

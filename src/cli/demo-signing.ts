import { join } from 'node:path';
import { Command } from 'commander';
import { decodePem, parseCertificate } from '../core/index.ts';
import {
  discoverSignatures,
  parseImageReference,
  withDigest,
  type ClosableRegistryClient,
} from '../oci/index.ts';
import { certificateIdentity } from '../verify/index.ts';
import { addClientCommands } from './client-commands.ts';
import { CliError } from './errors.ts';
import { addImageCommands } from './image-commands.ts';
import type { CliIo } from './program.ts';

/**
 * Step 4 of `sigil demo`: a keyless signature made by Sigil's own commands, `sigil token` and
 * `sigil sign`, run in this process with their output captured, and what they wrote read back.
 */

/** The identity the demo signs as (the development issuer is an email issuer: the SAN is the email). */
export const DEMO_SUBJECT = 'demo';
export const DEMO_EMAIL = 'demo@example.com';

export interface SigningContext {
  readonly client: ClosableRegistryClient;
  readonly env: NodeJS.ProcessEnv;
  readonly root: string;
  readonly issuer: string;
  readonly trustConfigFile: string;
}

/**
 * Mints a development ID token with `sigil token` and signs `image` with `sigil sign` (the commands
 * themselves, run in this process), then reads back what was written: the certificate's identity and
 * the transparency-log index of the signature.
 */
export async function signKeyless(
  context: SigningContext,
  image: string,
  digest: string,
): Promise<{ command: string; identity: string; issuer: string; logIndex: number }> {
  const tokenFile = join(context.root, 'token');
  await runCommand(addClientCommands, context.env, [
    'token',
    '--issuer',
    context.issuer,
    '--subject',
    DEMO_SUBJECT,
    '--email',
    DEMO_EMAIL,
    '--out',
    tokenFile,
  ]);
  const sign = ['sign', '--trust-config', context.trustConfigFile, '--identity-token', tokenFile, image];
  await runCommand(addImageCommands, context.env, sign);
  const artifacts = await discoverSignatures(context.client, withDigest(parseImageReference(image), digest));
  const layer = artifacts.signatures.at(-1);
  const pem = layer?.annotations['dev.sigstore.cosign/certificate'];
  const rekorBundle = layer?.annotations['dev.sigstore.cosign/bundle'];
  if (pem === undefined || rekorBundle === undefined) {
    throw new CliError(
      'CLI_CHECK_FAILED',
      `${image}: expected a signature with a certificate and a log entry after sigil sign, received ${artifacts.signatures.length} signature layers`,
    );
  }
  const leaf = parseCertificate(decodePem(pem, 'certificate')[0]!.der, 'certificate');
  const identity = certificateIdentity(leaf);
  const entry = JSON.parse(rekorBundle) as { Payload?: { logIndex?: unknown } };
  return {
    command: `sigil ${sign.join(' ')}`,
    identity: identity.subjectAlternativeName,
    issuer: identity.extensions.issuer ?? '(none)',
    logIndex: Number(entry.Payload?.logIndex),
  };
}

/**
 * Runs one of Sigil's own commands (as `sigil ARGS…` would) with its output captured: the demo calls
 * into `sigil token` and `sigil sign` rather than doing what they do a second time.
 */
async function runCommand(
  add: (program: Command, io: CliIo) => void,
  env: NodeJS.ProcessEnv,
  args: readonly string[],
): Promise<string> {
  let stdout = '';
  const io: CliIo = {
    env,
    stdout: (text) => (stdout += text),
    stderr: () => undefined,
    untilStopped: () => new Promise(() => undefined),
  };
  const program = new Command('sigil')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  add(program, io);
  await program.parseAsync([...args], { from: 'user' });
  return stdout;
}

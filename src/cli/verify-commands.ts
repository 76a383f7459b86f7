import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { describeError, isSigilError } from '../core/index.ts';
import {
  Verifier,
  artifactDigest,
  parseTrustedRoot,
  publicKeyFromPem,
  type Artifact,
  type SignerPolicy,
  type StringMatcher,
  type VerificationResult,
} from '../verify/index.ts';
import { defaultStateDir } from './config.ts';
import { CliError } from './errors.ts';
import type { CliIo } from './program.ts';

interface VerifyBundleFlags {
  artifact?: string;
  digest?: string;
  trustedRoot?: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  key?: string;
  state?: string;
  json?: boolean;
}

/**
 * `sigil verify-bundle`: verifies a Sigstore bundle offline against a trusted root, as `cosign
 * verify-blob --bundle` and `sigstore verify` do. Exit code 0 when it verifies, 1 when it does not.
 */
export function addVerifyCommands(program: Command, io: CliIo): void {
  program
    .command('verify-bundle')
    .description('verify a Sigstore bundle (v0.1–v0.3) offline; exit 0 when it verifies, 1 when not')
    .argument('<bundle>', 'the bundle file (.sigstore.json)')
    .option('--artifact <file>', 'the signed file (or, for an attestation, its subject)')
    .option('--digest <algorithm:hex>', 'the signed artifact by digest instead, e.g. sha256:…')
    .option(
      '--trusted-root <file>',
      'trusted_root.json (default: the one `sigil up` wrote in its state folder, env SIGIL_STATE)',
    )
    .option('--certificate-identity <san>', "the certificate's expected subject (email, URI)")
    .option('--certificate-identity-regexp <regexp>', 'or an anchored regular expression for it')
    .option('--certificate-oidc-issuer <url>', "the certificate's expected OIDC issuer")
    .option('--certificate-oidc-issuer-regexp <regexp>', 'or an anchored regular expression for it')
    .option('--key <file>', 'PEM public key, for a bundle signed with a key instead of a certificate')
    .option('--state <dir>', 'state folder to find trusted_root.json in (env SIGIL_STATE)')
    .option('--json', 'print the verification result (or the failure) as JSON')
    .action(async (bundlePath: string, flags: VerifyBundleFlags) => {
      const artifact = await readArtifact(flags);
      const signer = await signerPolicy(flags);
      const trustedRootPath = resolve(
        flags.trustedRoot ??
          join(flags.state ?? io.env.SIGIL_STATE ?? defaultStateDir(io.env), 'trusted_root.json'),
      );
      const trust = parseTrustedRoot(
        await readInput(trustedRootPath, flags.trustedRoot ? '--trusted-root' : 'trusted root', () =>
          flags.trustedRoot
            ? 'check the path'
            : 'pass --trusted-root FILE, or run `sigil up` (or `sigil trust-config --out DIR`) to write one',
        ),
      );
      const bundle = await readInput(resolve(bundlePath), 'bundle', () => 'check the path');
      let result: VerificationResult;
      try {
        result = new Verifier(trust).verify(bundle, { artifact, signer });
      } catch (error) {
        if (flags.json) {
          const code = isSigilError(error) ? error.code : 'UNEXPECTED';
          io.stdout(`${JSON.stringify({ verified: false, code, message: describeError(error) })}\n`);
        }
        throw error;
      }
      io.stdout(flags.json ? `${JSON.stringify({ verified: true, result })}\n` : formatResult(result));
    });
}

async function readArtifact(flags: VerifyBundleFlags): Promise<Artifact> {
  if ((flags.artifact === undefined) === (flags.digest === undefined)) {
    throw new CliError('CLI_OPTION_INVALID', '--artifact, --digest: expected exactly one of them');
  }
  if (flags.digest !== undefined) {
    try {
      return artifactDigest(flags.digest);
    } catch (error) {
      throw new CliError('CLI_OPTION_INVALID', `--digest: ${describeError(error)}`);
    }
  }
  return {
    kind: 'bytes',
    bytes: await readInput(resolve(flags.artifact!), '--artifact', () => 'check the path'),
  };
}

async function signerPolicy(flags: VerifyBundleFlags): Promise<SignerPolicy> {
  const subject = matcher(
    flags.certificateIdentity,
    flags.certificateIdentityRegexp,
    '--certificate-identity',
  );
  const issuer = matcher(
    flags.certificateOidcIssuer,
    flags.certificateOidcIssuerRegexp,
    '--certificate-oidc-issuer',
  );
  if (flags.key !== undefined) {
    if (subject || issuer) {
      throw new CliError(
        'CLI_OPTION_INVALID',
        '--key: cannot be combined with --certificate-identity or --certificate-oidc-issuer',
      );
    }
    const pem = new TextDecoder().decode(
      await readInput(resolve(flags.key), '--key', () => 'check the path'),
    );
    return { kind: 'publicKey', key: publicKeyFromPem(pem, '--key') };
  }
  if (!subject || !issuer) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      '--certificate-identity[-regexp], --certificate-oidc-issuer[-regexp]: expected both for a keyless bundle (or --key FILE for a key-based one)',
    );
  }
  return { kind: 'certificateIdentities', identities: [{ subject, issuer }] };
}

function matcher(
  exact: string | undefined,
  regexp: string | undefined,
  name: string,
): StringMatcher | undefined {
  if (exact !== undefined && regexp !== undefined) {
    throw new CliError('CLI_OPTION_INVALID', `${name}, ${name}-regexp: expected at most one of them`);
  }
  if (exact !== undefined) return { exact };
  return regexp !== undefined ? { regexp } : undefined;
}

async function readInput(path: string, name: string, advice: () => string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `${name}: cannot read ${path} (${describeError(error)}); ${advice()}`,
    );
  }
}

function formatResult(result: VerificationResult): string {
  const lines = ['Verified OK'];
  const signer = result.signer;
  if (signer.kind === 'certificate') {
    lines.push(`  signer:   ${signer.identity.subjectAlternativeName}`);
    if (signer.identity.extensions.issuer) lines.push(`  issuer:   ${signer.identity.extensions.issuer}`);
    lines.push(`  CA:       ${signer.certificateAuthority}`);
  } else {
    lines.push(`  signer:   public key${signer.hint ? ` (hint ${signer.hint})` : ''}`);
  }
  for (const entry of result.tlogEntries) {
    lines.push(
      `  tlog:     ${entry.baseUrl} entry ${entry.logIndex} (${entry.kind} ${entry.version})${entry.integratedTime ? ` at ${entry.integratedTime}` : ''}`,
    );
  }
  for (const time of result.verifiedTimes)
    lines.push(`  time:     ${time.time} (${time.kind}, ${time.source})`);
  return `${lines.join('\n')}\n`;
}

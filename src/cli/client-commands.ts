import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from './errors.ts';
import type { CliIo } from './program.ts';
import { clientHints } from './up.ts';

const DEFAULT_URL = 'http://127.0.0.1:7070';

/**
 * Client commands of a running deployment: `sigil token` (an ID token from the development issuer) and
 * `sigil trust-config` (its trust material, written where clients read it).
 */
export function addClientCommands(program: Command, io: CliIo): void {
  program
    .command('token')
    .description('print an ID token from the DEVELOPMENT OIDC issuer of `sigil up` (not for production)')
    .requiredOption('--subject <sub>', 'the token subject (sub)')
    .option('--email <address>', 'the email claim (email_verified true); the default CA config needs one')
    .option('--audience <aud>', 'the audience (aud)', 'sigstore')
    .option('--issuer <url>', `the issuer URL (env SIGIL_OIDC_ISSUER; default ${DEFAULT_URL}/oidc)`)
    .option('--out <file>', 'write the bare token (no newline) to FILE, as cosign --identity-token reads it')
    .action(
      async (flags: { subject: string; email?: string; audience: string; issuer?: string; out?: string }) => {
        const issuer = (flags.issuer ?? io.env.SIGIL_OIDC_ISSUER ?? `${DEFAULT_URL}/oidc`).replace(/\/$/, '');
        const body = {
          subject: flags.subject,
          audience: flags.audience,
          ...(flags.email !== undefined ? { email: flags.email } : {}),
        };
        const answer = await fetchJson(`${issuer}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const token = (answer as { id_token?: unknown }).id_token;
        if (typeof token !== 'string') {
          throw new CliError('CLI_CHECK_FAILED', `${issuer}/token: expected an id_token in the answer`);
        }
        if (flags.out !== undefined) await writeFile(flags.out, token, { mode: 0o600 });
        else io.stdout(`${token}\n`);
      },
    );

  program
    .command('trust-config')
    .description("fetch a running deployment's client trust config and print how to use it")
    .option('--url <url>', `Sigil's base URL (env SIGIL_URL; default ${DEFAULT_URL})`)
    .option('--out <dir>', 'folder to write trust-config.json and trusted_root.json into', '.')
    .option('--json', 'print machine-readable JSON')
    .action(async (flags: { url?: string; out: string; json?: boolean }) => {
      const url = (flags.url ?? io.env.SIGIL_URL ?? DEFAULT_URL).replace(/\/$/, '');
      const trustConfig = (await fetchJson(`${url}/trust-config.json`)) as {
        trustedRoot?: unknown;
        signingConfig?: { oidcUrls?: { url?: string }[] };
      };
      if (typeof trustConfig.trustedRoot !== 'object' || trustConfig.trustedRoot === null) {
        throw new CliError(
          'CLI_CHECK_FAILED',
          `${url}/trust-config.json: expected a ClientTrustConfig with a trustedRoot`,
        );
      }
      const dir = resolve(flags.out);
      await mkdir(dir, { recursive: true });
      const trustConfigFile = join(dir, 'trust-config.json');
      const trustedRootFile = join(dir, 'trusted_root.json');
      await writeFile(trustConfigFile, `${JSON.stringify(trustConfig, null, 2)}\n`);
      await writeFile(trustedRootFile, `${JSON.stringify(trustConfig.trustedRoot, null, 2)}\n`);
      const oidcIssuer = trustConfig.signingConfig?.oidcUrls?.[0]?.url;
      const ca = {
        url,
        oidcIssuer: oidcIssuer ?? `${url}/oidc`,
        oidcIssuerTrusted: oidcIssuer !== undefined,
        ctLog: { url: `${url}/ct-log`, origin: '' },
        trustConfigFile,
        trustedRootFile,
      };
      io.stdout(flags.json ? `${JSON.stringify(ca)}\n` : `${clientHints(ca).join('\n')}\n`);
    });
}

async function fetchJson(url: string, init?: RequestInit): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch (cause) {
    throw new CliError(
      'CLI_CHECK_FAILED',
      `${url}: unreachable (${(cause as Error).message}); is \`sigil up\` running there?`,
      {
        cause,
      },
    );
  }
  const text = await response.text();
  if (!response.ok)
    throw new CliError('CLI_CHECK_FAILED', `${url}: HTTP ${response.status}: ${text.slice(0, 300)}`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliError(
      'CLI_CHECK_FAILED',
      `${url}: expected JSON, received ${JSON.stringify(text.slice(0, 100))}`,
    );
  }
}

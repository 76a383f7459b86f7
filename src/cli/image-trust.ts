import { createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describeError } from '../core/index.ts';
import { createRegistryClient, loadDockerConfig, type ClosableRegistryClient } from '../oci/index.ts';
import { parseTrustedRoot, publicKeyFromPem, type TrustMaterial } from '../verify/index.ts';
import { CliError } from './errors.ts';
import type { SigningIdentity } from './signing/signers.ts';

/**
 * What the image commands read from files and the environment: the client trust config `sigil up`
 * writes (trusted root + signing config), keys, the identity token, registry credentials.
 */

export interface ClientTrust {
  readonly trust: TrustMaterial;
  /** The trusted root's CA chain of the newest CA (issuing certificate first), DER, for the `chain` annotation. */
  readonly caChain: readonly Uint8Array[];
  readonly caUrl?: string;
  readonly rekorUrl?: string;
}

/** Reads a ClientTrustConfig (`trust-config.json`: `trustedRoot` + `signingConfig`). */
export async function readTrustConfig(path: string): Promise<ClientTrust> {
  const text = await readText(
    path,
    '--trust-config',
    'run `sigil up` or `sigil trust-config --out DIR` to write one',
  );
  let config: {
    trustedRoot?: unknown;
    signingConfig?: { caUrls?: { url?: string }[]; rekorTlogUrls?: { url?: string }[] };
  };
  try {
    config = JSON.parse(text) as typeof config;
  } catch (error) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `--trust-config ${path}: expected JSON, ${describeError(error)}`,
    );
  }
  if (typeof config.trustedRoot !== 'object' || config.trustedRoot === null) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `--trust-config ${path}: expected a ClientTrustConfig with a trustedRoot`,
    );
  }
  const trust = parseTrustedRoot(config.trustedRoot);
  const newest = trust.certificateAuthorities.at(-1);
  return {
    trust,
    caChain: newest ? newest.chain.map((certificate) => certificate.der) : [],
    ...(config.signingConfig?.caUrls?.[0]?.url ? { caUrl: config.signingConfig.caUrls[0].url } : {}),
    ...(config.signingConfig?.rekorTlogUrls?.[0]?.url
      ? { rekorUrl: config.signingConfig.rekorTlogUrls[0].url }
      : {}),
  };
}

/** `--identity-token`: a file of that name (as cosign reads it), else the token itself. */
export async function readIdentityToken(value: string): Promise<string> {
  if (existsSync(value)) return (await readText(value, '--identity-token', 'check the path')).trim();
  if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(value.trim())) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      '--identity-token: expected a JWT or a file holding one (`sigil token --out FILE` writes one)',
    );
  }
  return value.trim();
}

/** A PEM private key (PKCS #8, SEC 1 or PKCS #1), encrypted ones with env SIGIL_KEY_PASSWORD. */
export async function readPrivateKey(path: string, env: NodeJS.ProcessEnv): Promise<KeyObject> {
  const pem = await readText(path, '--key', 'check the path');
  try {
    return createPrivateKey({
      key: pem,
      ...(env.SIGIL_KEY_PASSWORD ? { passphrase: env.SIGIL_KEY_PASSWORD } : {}),
    });
  } catch (error) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `--key ${path}: expected a PEM private key (${describeError(error)}); an encrypted key needs SIGIL_KEY_PASSWORD`,
    );
  }
}

export async function readPublicKey(path: string): Promise<KeyObject> {
  return publicKeyFromPem(await readText(path, '--key', 'check the path'), `--key ${path}`);
}

/** The signer of `sigil sign`/`attest`: `--key`, or keyless with the trust config's CA and a token. */
export async function signingIdentityOf(
  flags: { key?: string; identityToken?: string },
  trust: ClientTrust | undefined,
  env: NodeJS.ProcessEnv,
): Promise<SigningIdentity> {
  if (flags.key !== undefined) return { kind: 'key', privateKey: await readPrivateKey(flags.key, env) };
  if (flags.identityToken === undefined || trust?.caUrl === undefined) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      '--identity-token, --trust-config: keyless signing needs both (a token, and the trust config naming the CA), or use --key FILE',
    );
  }
  return { kind: 'keyless', caUrl: trust.caUrl, identityToken: await readIdentityToken(flags.identityToken) };
}

/** A registry client with the user's docker credentials (`$DOCKER_CONFIG/config.json`). */
export async function registryClientFor(
  env: NodeJS.ProcessEnv,
  allowInsecure: boolean,
): Promise<ClosableRegistryClient> {
  const dockerConfig = join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json');
  return createRegistryClient({
    credentials: await loadDockerConfig(dockerConfig),
    allowInsecureRegistries: allowInsecure,
    userAgent: 'sigil',
  });
}

async function readText(path: string, name: string, advice: string): Promise<string> {
  try {
    return await readFile(resolve(path), 'utf8');
  } catch (error) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `${name}: cannot read ${path} (${describeError(error)}); ${advice}`,
    );
  }
}

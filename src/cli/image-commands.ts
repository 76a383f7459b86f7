import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { describeError } from '../core/index.ts';
import {
  cosignTag,
  digestOf,
  parseImageReference,
  withDigest,
  type ClosableRegistryClient,
  type DiscoveryOptions,
  type ImageReference,
  type RegistryClient,
} from '../oci/index.ts';
import { PREDICATE_TYPE_URIS, isPredicateTypeShortName } from '../policy/index.ts';
import { Verifier, type SignerPolicy, type StringMatcher } from '../verify/index.ts';
import { CliError } from './errors.ts';
import {
  formatOutcome,
  verifyImage,
  verifyImageAttestations,
  type ImageVerification,
} from './image-verification.ts';
import {
  readPublicKey,
  readTrustConfig,
  registryClientFor,
  signingIdentityOf,
  type ClientTrust,
} from './image-trust.ts';
import type { CliIo } from './program.ts';
import {
  COSIGN_SIGN_PREDICATE_TYPE,
  DSSE_ENVELOPE_MEDIA_TYPE,
  IN_TOTO_PAYLOAD_TYPE,
  SIMPLE_SIGNING_MEDIA_TYPE,
  envelopeJson,
  imageStatement,
  legacyAnnotations,
  simpleSigningPayload,
} from './signing/cosign-layout.ts';
import { signDsseBundle, signMessageBundle, type SerializedBundle } from './signing/sign-bundle.ts';

interface SignFlags {
  trustConfig?: string;
  identityToken?: string;
  key?: string;
  rekorUrl?: string;
  bundle?: boolean;
  annotation?: string[];
  allowInsecureRegistry?: boolean;
}

const EMPTY_CONFIG = Buffer.from('{}');
const EMPTY_CONFIG_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/**
 * `sigil sign`, `sigil attest` and `sigil verify` for container images: signatures and attestations
 * written where cosign, policy-controller, Kyverno and Connaisseur read them — the legacy `.sig`/`.att`
 * tags, and with `--bundle` Sigstore bundles as OCI 1.1 referrers — and checked with src/verify.
 */
export function addImageCommands(program: Command, io: CliIo): void {
  const signerOptions = (command: Command) =>
    command
      .option('--trust-config <file>', 'trust-config.json of the deployment (CA, log, trusted root)')
      .option('--identity-token <token>', 'OIDC ID token, or a file holding one (keyless)')
      .option('--key <file>', 'sign with this PEM private key instead (password in env SIGIL_KEY_PASSWORD)')
      .option('--rekor-url <url>', 'the Rekor v1 log to write to (default: from --trust-config)')
      .option('--bundle', 'write a Sigstore bundle as an OCI 1.1 referrer instead of the legacy tag')
      .option('--allow-insecure-registry', 'allow plain HTTP to registries other than localhost');

  signerOptions(program.command('sign').description('sign a container image').argument('<image>'))
    .option('-a, --annotation <key=value...>', 'annotations to sign into the payload (legacy format)')
    .action(async (image: string, flags: SignFlags) => {
      await withImage(io, image, flags, async (client, reference, trust) => {
        const identity = await signingIdentityOf(flags, trust, io.env);
        const rekorUrl = rekorUrlOf(flags, trust);
        const name = `${reference.registry}/${reference.repository}`;
        if (flags.bundle) {
          io.stderr(`signing ${name}@${reference.digest} (Sigstore bundle, referrer)\n`);
          const statement = imageStatement(name, reference.digest!, COSIGN_SIGN_PREDICATE_TYPE, {});
          const bundle = await signDsseBundle(statement, IN_TOTO_PAYLOAD_TYPE, {
            identity,
            rekorUrl,
            entryType: 'dsse',
          });
          const digest = await pushReferrerBundle(client, reference, bundle, COSIGN_SIGN_PREDICATE_TYPE, io);
          io.stdout(`${name}@${digest}\n`);
          return;
        }
        io.stderr(
          `signing ${name}@${reference.digest} (cosign signature, ${cosignTag(reference.digest!, 'sig')})\n`,
        );
        const payload = simpleSigningPayload(name, reference.digest!, parseAnnotations(flags.annotation));
        const bundle = await signMessageBundle(payload, { identity, rekorUrl });
        const annotations = legacyAnnotations(
          bundle,
          identity.kind === 'keyless' ? (trust?.caChain ?? []) : [],
        );
        const tag = cosignTag(reference.digest!, 'sig');
        await appendLayer(
          client,
          signatureRepositoryOf(io.env, reference),
          tag,
          payload,
          SIMPLE_SIGNING_MEDIA_TYPE,
          annotations,
          io,
        );
        io.stdout(`${name}:${tag}\n`);
      });
    });

  signerOptions(
    program.command('attest').description('attest a container image (DSSE in-toto)').argument('<image>'),
  )
    .requiredOption('--predicate <file>', 'the predicate (JSON)')
    .option(
      '--type <type>',
      'predicate type: a URI or a cosign shorthand (slsaprovenance1, spdxjson, cyclonedx, vuln, custom, …)',
      'custom',
    )
    .action(async (image: string, flags: SignFlags & { predicate: string; type: string }) => {
      const predicateType = predicateTypeOf(flags.type);
      let predicate: unknown;
      try {
        predicate = JSON.parse(await readFile(flags.predicate, 'utf8'));
      } catch (error) {
        throw new CliError(
          'CLI_OPTION_INVALID',
          `--predicate ${flags.predicate}: expected a JSON file (${describeError(error)})`,
        );
      }
      await withImage(io, image, flags, async (client, reference, trust) => {
        const identity = await signingIdentityOf(flags, trust, io.env);
        const rekorUrl = rekorUrlOf(flags, trust);
        const name = `${reference.registry}/${reference.repository}`;
        const statement = imageStatement(name, reference.digest!, predicateType, predicate);
        io.stderr(`attesting ${name}@${reference.digest} (${predicateType})\n`);
        if (flags.bundle) {
          const bundle = await signDsseBundle(statement, IN_TOTO_PAYLOAD_TYPE, {
            identity,
            rekorUrl,
            entryType: 'dsse',
          });
          io.stdout(`${name}@${await pushReferrerBundle(client, reference, bundle, predicateType, io)}\n`);
          return;
        }
        // dsse 0.0.1, as cosign v3 logs legacy attestations: cosign checks the entry's envelopeHash
        // against the layer blob (an intoto 0.0.2 hash covers the public key too, and never matches).
        const bundle = await signDsseBundle(statement, IN_TOTO_PAYLOAD_TYPE, {
          identity,
          rekorUrl,
          entryType: 'dsse',
        });
        const annotations = legacyAnnotations(
          bundle,
          identity.kind === 'keyless' ? (trust?.caChain ?? []) : [],
          { predicateType },
        );
        const tag = cosignTag(reference.digest!, 'att');
        await appendLayer(
          client,
          signatureRepositoryOf(io.env, reference),
          tag,
          envelopeJson(bundle),
          DSSE_ENVELOPE_MEDIA_TYPE,
          annotations,
          io,
        );
        io.stdout(`${name}:${tag}\n`);
      });
    });

  const verifierOptions = (command: Command) =>
    command
      .option('--trust-config <file>', 'trust-config.json of the deployment (its trusted root)')
      .option('--certificate-identity <san>', "the signer's certificate subject")
      .option('--certificate-identity-regexp <regexp>', 'or an anchored regular expression for it')
      .option('--certificate-oidc-issuer <url>', "the signer's OIDC issuer")
      .option('--certificate-oidc-issuer-regexp <regexp>', 'or an anchored regular expression for it')
      .option('--key <file>', 'PEM public key, for signatures made with a key')
      .option(
        '--insecure-ignore-tlog',
        'accept key-based signatures without a transparency-log entry (unsafe)',
      )
      .option('--allow-insecure-registry', 'allow plain HTTP to registries other than localhost')
      .option('--json', 'print the result as JSON');

  /** Verifies `image` with `check`, prints the outcome, exits 1 (CLI_CHECK_FAILED) when nothing verified. */
  const verifyCommand = async (
    image: string,
    flags: VerifyFlags,
    what: string,
    check: (
      client: RegistryClient,
      reference: ImageReference,
      verifier: Verifier,
      signer: SignerPolicy,
    ) => Promise<ImageVerification>,
  ) => {
    if (!flags.trustConfig)
      throw new CliError('CLI_OPTION_INVALID', '--trust-config: required to verify (its trusted root)');
    const trust = await readTrustConfig(flags.trustConfig);
    const signer = await signerPolicyOf(flags);
    const verifier = new Verifier(trust.trust, {
      skipTransparencyLogUnsafe: flags.insecureIgnoreTlog ?? false,
    });
    await withImage(
      io,
      image,
      { allowInsecureRegistry: flags.allowInsecureRegistry },
      async (client, reference) => {
        const outcome = await check(client, reference, verifier, signer);
        if (flags.json) io.stdout(`${JSON.stringify(outcome)}\n`);
        else io.stdout(formatOutcome(outcome));
        if (outcome.verified.length === 0) {
          throw new CliError(
            'CLI_CHECK_FAILED',
            `${outcome.image}: no ${what} verified${outcome.failures.length > 0 ? ` (${outcome.failures.map((failure) => failure.reason).join('; ')})` : ` (no ${what}s found)`}`,
          );
        }
      },
    );
  };

  verifierOptions(
    program
      .command('verify')
      .description('verify the signatures of a container image; exit 0 when one verifies, 1 when none does')
      .argument('<image>'),
  ).action((image: string, flags: VerifyFlags) =>
    verifyCommand(image, flags, 'signature', (client, reference, verifier, signer) =>
      verifyImage(client, reference, verifier, signer, discoveryOf(io.env)),
    ),
  );

  verifierOptions(
    program
      .command('verify-attestation')
      .description(
        'verify the attestations of one predicate type of a container image; exit 0 when one verifies, 1 when none does',
      )
      .argument('<image>')
      .requiredOption(
        '--type <type>',
        'predicate type: a URI or a cosign shorthand (slsaprovenance1, spdxjson, cyclonedx, vuln, custom, …)',
      ),
  ).action((image: string, flags: VerifyFlags & { type: string }) => {
    const predicateType = predicateTypeOf(flags.type);
    return verifyCommand(image, flags, 'attestation', (client, reference, verifier, signer) =>
      verifyImageAttestations(client, reference, verifier, signer, predicateType, discoveryOf(io.env)),
    );
  });
}

/**
 * Where the `.sig`/`.att` tags live: beside the image, or in the repository cosign's COSIGN_REPOSITORY
 * names (the same variable, so cosign and sigil find each other's signatures).
 */
function signatureRepositoryOf(env: NodeJS.ProcessEnv, image: ImageReference): ImageReference {
  return env.COSIGN_REPOSITORY ? parseImageReference(env.COSIGN_REPOSITORY) : image;
}

function discoveryOf(env: NodeJS.ProcessEnv): DiscoveryOptions {
  return env.COSIGN_REPOSITORY ? { signatureRepository: parseImageReference(env.COSIGN_REPOSITORY) } : {};
}

/** cosign's `--type`: a shorthand, or a URI. */
function predicateTypeOf(type: string): string {
  const predicateType = isPredicateTypeShortName(type) ? PREDICATE_TYPE_URIS[type] : type;
  if (!/^[a-z][a-z0-9+.-]*:/i.test(predicateType)) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      `--type: expected a URI or one of ${Object.keys(PREDICATE_TYPE_URIS).join(', ')}, received ${type}`,
    );
  }
  return predicateType;
}

interface VerifyFlags {
  trustConfig?: string;
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
  key?: string;
  insecureIgnoreTlog?: boolean;
  allowInsecureRegistry?: boolean;
  json?: boolean;
}

async function signerPolicyOf(flags: VerifyFlags): Promise<SignerPolicy> {
  if (flags.key !== undefined) return { kind: 'publicKey', key: await readPublicKey(flags.key) };
  const matcher = (exact?: string, regexp?: string): StringMatcher | undefined =>
    exact !== undefined ? { exact } : regexp !== undefined ? { regexp } : undefined;
  const subject = matcher(flags.certificateIdentity, flags.certificateIdentityRegexp);
  const issuer = matcher(flags.certificateOidcIssuer, flags.certificateOidcIssuerRegexp);
  if (!subject || !issuer) {
    throw new CliError(
      'CLI_OPTION_INVALID',
      '--certificate-identity[-regexp], --certificate-oidc-issuer[-regexp]: expected both for keyless signatures (or --key FILE)',
    );
  }
  return { kind: 'certificateIdentities', identities: [{ subject, issuer }] };
}

/** Resolves the image to a digest, runs `work`, and closes the registry client. */
async function withImage(
  io: CliIo,
  image: string,
  flags: { trustConfig?: string; allowInsecureRegistry?: boolean | undefined },
  work: (
    client: ClosableRegistryClient,
    reference: ImageReference,
    trust: ClientTrust | undefined,
  ) => Promise<void>,
): Promise<void> {
  const trust = flags.trustConfig ? await readTrustConfig(flags.trustConfig) : undefined;
  let reference = parseImageReference(image);
  const client = await registryClientFor(io.env, flags.allowInsecureRegistry ?? false);
  try {
    if (reference.digest === undefined)
      reference = withDigest(reference, await client.resolveDigest(reference));
    await work(client, reference, trust);
  } finally {
    await client.close();
  }
}

function rekorUrlOf(flags: SignFlags, trust: ClientTrust | undefined): string {
  const url = flags.rekorUrl ?? trust?.rekorUrl;
  if (!url)
    throw new CliError(
      'CLI_OPTION_INVALID',
      '--rekor-url: no log to write to (give --trust-config or --rekor-url)',
    );
  return url;
}

function parseAnnotations(values: readonly string[] | undefined): Record<string, string> | undefined {
  if (!values) return undefined;
  const annotations: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0)
      throw new CliError('CLI_OPTION_INVALID', `--annotation: expected key=value, received ${value}`);
    annotations[value.slice(0, at)] = value.slice(at + 1);
  }
  return annotations;
}

/**
 * Adds a layer to the cosign `.sig`/`.att` manifest at `tag` (creating it), as cosign appends: every
 * signature of the image is one layer of the same manifest. An identical layer is not added twice.
 */
async function appendLayer(
  client: RegistryClient,
  reference: ImageReference,
  tag: string,
  content: Uint8Array,
  mediaType: string,
  annotations: Record<string, string>,
  io: CliIo,
): Promise<void> {
  io.stderr(`  pushing layer (${content.byteLength} bytes)\n`);
  const layer = { ...(await client.pushBlob(reference, content, mediaType)), annotations };
  const existing = await client.findManifest(reference, tag);
  const layers = existing?.manifest.kind === 'manifest' ? [...existing.manifest.layers] : [];
  if (
    !layers.some(
      (each) =>
        each.digest === layer.digest && JSON.stringify(each.annotations) === JSON.stringify(annotations),
    )
  ) {
    layers.push(layer);
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((each) => each.digest) },
      config: {},
    }),
  );
  const configDescriptor = await client.pushBlob(
    reference,
    config,
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDescriptor, layers }),
  );
  io.stderr(`  pushing manifest ${tag} (${layers.length} layer${layers.length === 1 ? '' : 's'})\n`);
  await client.pushManifest(reference, manifest, OCI_MANIFEST, tag);
}

/** cosign's bundle spec: the bundle blob, the empty config, an artifact manifest whose subject is the image. */
async function pushReferrerBundle(
  client: RegistryClient,
  reference: ImageReference,
  bundle: SerializedBundle,
  predicateType: string,
  io: CliIo,
): Promise<string> {
  const bytes = Buffer.from(JSON.stringify(bundle));
  io.stderr(`  pushing bundle (${bytes.byteLength} bytes)\n`);
  const layer = await client.pushBlob(reference, bytes, BUNDLE_MEDIA_TYPE);
  const config = await client.pushBlob(reference, EMPTY_CONFIG, EMPTY_CONFIG_MEDIA_TYPE);
  const image = await client.getManifest(reference);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: BUNDLE_MEDIA_TYPE,
      config,
      layers: [
        {
          ...layer,
          annotations: {
            'org.opencontainers.image.title': `${layer.digest.replace(':', '-')}.sigstore.json`,
          },
        },
      ],
      subject: { mediaType: image.mediaType, digest: image.digest, size: image.bytes.byteLength },
      annotations: {
        'dev.sigstore.bundle.content': 'dsse-envelope',
        'dev.sigstore.bundle.predicateType': predicateType,
        'org.opencontainers.image.created': new Date().toISOString(),
      },
    }),
  );
  io.stderr('  pushing referrer manifest\n');
  return client.pushManifest(reference, manifest, OCI_MANIFEST, digestOf(manifest));
}

import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { describeError } from '../core/index.ts';
import { discoverSignatures, parseImageReference, withDigest } from '../oci/index.ts';
import {
  evaluateImage,
  formatDecision,
  parsePolicyDocuments,
  verifiersFor,
  type ClusterImagePolicy,
} from '../policy/index.ts';
import type { TrustMaterial } from '../verify/index.ts';
import { CliError } from './errors.ts';
import { readTrustConfig, registryClientFor } from './image-trust.ts';
import type { CliIo } from './program.ts';

interface PolicyTestFlags {
  policy: string;
  trustConfig?: string;
  ifNoMatch?: string;
  allowInsecureRegistry?: boolean;
  json?: boolean;
}

/** Trust for key-based authorities only: they verify with the key and (without `ctlog`) skip the log. */
const NO_TRUST: TrustMaterial = {
  certificateAuthorities: [],
  timestampAuthorities: [],
  tlogs: [],
  ctlogs: [],
};

/**
 * `sigil policy test`: evaluates ClusterImagePolicies against one image from the registry, as upstream
 * policy-controller's `policy-tester` does, and prints the decision (a line, or `--json`). Exit 0 when
 * the image is allowed (or allowed with warnings), 1 when denied.
 */
export function addPolicyCommands(program: Command, io: CliIo): void {
  const policy = program.command('policy').description('ClusterImagePolicy tools');
  policy
    .command('test')
    .description(
      'evaluate ClusterImagePolicies against an image; exit 0 when allowed or warned, 1 when denied',
    )
    .argument('<image>', 'the image, by tag or digest')
    .requiredOption('--policy <file-or-dir>', 'a YAML file of policies, or a folder of them (*.yaml, *.yml)')
    .option(
      '--trust-config <file>',
      'trust-config.json whose trusted root keyless authorities verify against',
    )
    .option('--if-no-match <action>', 'when no policy matches the image: deny or allow (default deny)')
    .option('--allow-insecure-registry', 'allow plain HTTP to registries other than localhost')
    .option('--json', 'print the decision as JSON')
    .action(async (image: string, flags: PolicyTestFlags) => {
      const noMatch = flags.ifNoMatch ?? 'deny';
      if (noMatch !== 'deny' && noMatch !== 'allow') {
        throw new CliError(
          'CLI_OPTION_INVALID',
          `--if-no-match: expected deny or allow, received ${noMatch}`,
        );
      }
      const policies = await readPolicies(flags.policy);
      const trust = flags.trustConfig ? (await readTrustConfig(flags.trustConfig)).trust : NO_TRUST;
      let reference = parseImageReference(image);
      const client = await registryClientFor(io.env, flags.allowInsecureRegistry ?? false);
      try {
        const digest = reference.digest ?? (await client.resolveDigest(reference));
        reference = withDigest(reference, digest);
        const decision = await evaluateImage({
          image: image.includes('@') ? image : `${image}@${digest}`,
          policies,
          noMatch,
          trust: verifiersFor(trust),
          evidence: (source) =>
            discoverSignatures(client, reference, {
              ...(source?.signatureRepository
                ? { signatureRepository: parseImageReference(source.signatureRepository) }
                : {}),
              ...(source?.tagPrefix !== undefined ? { tagPrefix: source.tagPrefix } : {}),
            }),
        });
        io.stdout(flags.json ? `${JSON.stringify(decision)}\n` : `${formatDecision(decision)}\n`);
        if (decision.outcome === 'denied') throw new CliError('CLI_CHECK_FAILED', formatDecision(decision));
      } finally {
        await client.close();
      }
    });
}

/** The ClusterImagePolicies of a file, or of every YAML file of a folder (TrustRoots are passed over). */
async function readPolicies(path: string): Promise<ClusterImagePolicy[]> {
  const full = resolve(path);
  let files: string[];
  try {
    files = (await stat(full)).isDirectory()
      ? (await readdir(full))
          .filter((name) => /\.ya?ml$/.test(name))
          .sort()
          .map((name) => join(full, name))
      : [full];
  } catch (error) {
    throw new CliError('CLI_OPTION_INVALID', `--policy: cannot read ${path} (${describeError(error)})`);
  }
  const policies: ClusterImagePolicy[] = [];
  for (const file of files) {
    const documents = parsePolicyDocuments(await readFile(file, 'utf8'), file);
    for (const document of documents) if (document.kind === 'ClusterImagePolicy') policies.push(document);
  }
  if (policies.length === 0) {
    throw new CliError('CLI_OPTION_INVALID', `--policy: no ClusterImagePolicy found in ${path}`);
  }
  return policies;
}

import type { KeyObject } from 'node:crypto';
import { assertNever, describeError, isSigilError } from '../core/index.ts';
import {
  verifyCosignAttestation,
  verifyCosignSignature,
  type SignerPolicy,
  type VerificationResult,
  type Verifier,
} from '../verify/index.ts';
import {
  ATTESTATION_POLICY_VARIABLES,
  compileCelPolicy,
  evaluateCelPolicy,
  type CelPolicy,
} from './cel-policy.ts';
import type {
  Authority,
  Identity,
  PolicyDefinition,
  SecretKeySource,
  StringMatcher,
} from './cluster-image-policy.types.ts';
import { PolicyError } from './errors.ts';
import type { AuthorityDecision, AuthorityReasonCode } from './policy-decision.ts';
import { unsupportedPolicyType } from './policy-type.ts';

/**
 * One authority of a ClusterImagePolicy against one image (upstream policy-controller
 * `pkg/webhook/validator.go`): `static` passes or fails as written; `key` and `keyless` pass when one
 * signature (`.sig` layer or referrer bundle, by `signatureFormat`) verifies and comes from the key or
 * one of the identities; with `attestations`, every wanted predicate type must have a verified
 * attestation, each of which passes the attestation's CEL policy.
 */

/** A layer of a cosign `.sig`/`.att` manifest with its blob; oci's CosignLayer has this shape. */
export interface EvidenceLayer {
  readonly payload: Uint8Array;
  readonly annotations: Readonly<Record<string, string>>;
  readonly descriptor?: { readonly digest: string };
}

/** A Sigstore bundle attached as an OCI 1.1 referrer; oci's ReferrerBundle has this shape. */
export interface EvidenceBundle {
  readonly annotations: Readonly<Record<string, string>>;
  readonly bundle: Uint8Array;
}

/** What may sign or attest one image digest; oci's SignatureArtifacts can be passed as is. */
export interface ImageEvidence {
  readonly signatures: readonly EvidenceLayer[];
  readonly attestations: readonly EvidenceLayer[];
  readonly bundles: readonly EvidenceBundle[];
}

/** An authority's `source[0]`: where its signatures live when not beside the image. */
export interface EvidenceSource {
  readonly signatureRepository?: string;
  readonly tagPrefix?: string;
  /** `source[0].signaturePullSecrets`: Secret names in the admitted resource's namespace. */
  readonly signaturePullSecrets?: readonly string[];
}

/** What a passing authority contributes to the CIP-level policy input (upstream PolicyResult). */
export interface AuthorityMatch {
  readonly static?: true;
  readonly signatures?: readonly SignerSummary[];
  readonly attestations?: Readonly<Record<string, readonly (SignerSummary & { predicateType: string })[]>>;
}

interface SignerSummary {
  readonly subject: string;
  readonly issuer: string;
}

export interface AuthorityContext {
  readonly authority: Authority;
  /** `spec.authorities[0]`, for reasons. */
  readonly field: string;
  /** `sha256:…` of the image. */
  readonly imageDigest: string;
  readonly evidence: () => Promise<ImageEvidence>;
  /** Throws (see trustFor) when the authority's trust material is missing or unsupported. */
  readonly verifier: () => Verifier;
  /** The public keys of a `key.secretRef` authority; any one verifying passes. */
  readonly secretKeys?: (source: SecretKeySource) => readonly KeyObject[];
}

export interface AuthorityOutcome {
  readonly decision: AuthorityDecision;
  readonly match?: AuthorityMatch;
}

/** The cosign predicate type of a plain image signature made as a DSSE bundle (cosign v3). */
const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';
const BUNDLE_PREDICATE_TYPE_ANNOTATION = 'dev.sigstore.bundle.predicateType';

/** Evaluates one authority. MUST NOT throw: every failure is a decision with a reason. */
export async function evaluateAuthority(context: AuthorityContext): Promise<AuthorityOutcome> {
  const { authority } = context;
  const fail = (reason: AuthorityReasonCode, message: string, extra: Partial<AuthorityDecision> = {}) => ({
    decision: { name: authority.name, outcome: 'failed' as const, reason, message, ...extra },
  });
  const verifier = authority.verifier;
  if (verifier.kind === 'static') {
    if (verifier.action === 'pass') {
      return {
        decision: {
          name: authority.name,
          outcome: 'passed',
          reason: 'STATIC_PASS',
          message: 'allowed by static policy',
        },
        match: { static: true },
      };
    }
    return fail(
      'STATIC_FAIL',
      `disallowed by static policy${verifier.message ? `: ${verifier.message}` : ''}`,
    );
  }
  const signer = signerOf(authority, context);
  if ('reason' in signer) return fail(signer.reason, signer.message);
  let trust: Verifier;
  try {
    trust = context.verifier();
  } catch (error) {
    if (error instanceof PolicyError && error.code === 'POLICY_UNSUPPORTED')
      return fail('UNSUPPORTED', error.message);
    return fail('TRUST_UNAVAILABLE', error instanceof PolicyError ? error.message : reasonOf(error));
  }
  let evidence: ImageEvidence;
  try {
    evidence = await context.evidence();
  } catch (error) {
    return fail('EVIDENCE_UNAVAILABLE', reasonOf(error));
  }
  const found = collectVerified(authority, evidence, trust, signer, context.imageDigest);
  if (found.verified.length === 0) {
    const kind = authority.attestations.length > 0 ? 'attestations' : 'signatures';
    if (found.identitiesSeen.length > 0) {
      return fail('IDENTITY_MISMATCH', `no ${kind} from ${describeIdentities(signer.identities!)}`, {
        identitiesSeen: [...new Set(found.identitiesSeen)],
      });
    }
    if (found.failures.length === 0)
      return fail('NO_SIGNATURES', `no ${kind} found (${authority.signatureFormat} format)`);
    const [first] = found.failures;
    return fail(
      'SIGNATURE_INVALID',
      `no ${kind} verified (${found.failures.length} checked${found.failures.length > 1 ? ', first' : ''}: ${first})`,
    );
  }
  const summary = (each: Verified): SignerSummary => ({
    subject: each.subject ?? '',
    issuer: each.issuer ?? '',
  });
  const matchedIdentity = found.verified[0]!.identity;
  if (authority.attestations.length === 0) {
    return {
      decision: {
        name: authority.name,
        outcome: 'passed',
        reason: 'SIGNATURE_VERIFIED',
        message: `signature verified${matchedIdentity ? ` from ${matchedIdentity}` : ' with the key'}`,
        ...(matchedIdentity ? { matchedIdentity } : {}),
      },
      match: { signatures: found.verified.map(summary) },
    };
  }
  const attestations: Record<string, (SignerSummary & { predicateType: string })[]> = {};
  for (const [index, wanted] of authority.attestations.entries()) {
    const field = `${context.field}.attestations[${index}]`;
    const matching = found.verified.filter((each) => each.predicateType === wanted.predicateTypeUri);
    if (matching.length === 0) {
      const types = [...new Set(found.verified.map((each) => each.predicateType))].join(', ');
      return fail(
        'NO_MATCHING_ATTESTATION',
        `no matching attestations with type ${wanted.predicateTypeUri}, checked the following predicateTypes: ${types}`,
      );
    }
    if (wanted.policy) {
      const compiled = compilePolicyDefinition(
        wanted.policy,
        `${field}.policy`,
        ATTESTATION_POLICY_VARIABLES,
      );
      if ('reason' in compiled) return fail(compiled.reason, compiled.message);
      for (const each of matching) {
        const outcome = evaluateCelPolicy(compiled, each.statement);
        if (!outcome.passed)
          return fail('ATTESTATION_POLICY_FAILED', `attestation ${wanted.name}: ${outcome.reason}`);
      }
    }
    attestations[wanted.name] = matching.map((each) => ({
      ...summary(each),
      predicateType: each.predicateType!,
    }));
  }
  return {
    decision: {
      name: authority.name,
      outcome: 'passed',
      reason: 'ATTESTATIONS_VERIFIED',
      message: `attestations ${authority.attestations.map((each) => each.name).join(', ')} verified`,
      ...(matchedIdentity ? { matchedIdentity } : {}),
    },
    match: { attestations },
  };
}

interface Signer {
  /** Tried in order on each signature; the first that verifies counts (upstream `valid` over PublicKeys). */
  readonly policies: readonly SignerPolicy[];
  /** Keyless: checked here rather than by the verifier, so the identities seen can be reported. */
  readonly identities?: readonly Identity[];
}

function signerOf(
  authority: Authority,
  context: AuthorityContext,
): Signer | { reason: AuthorityReasonCode; message: string } {
  const { field } = context;
  const verifier = authority.verifier;
  switch (verifier.kind) {
    case 'key': {
      const key = verifier.key;
      switch (key.kind) {
        case 'data':
          return { policies: [{ kind: 'publicKey', key: key.publicKey }] };
        case 'kms':
          return {
            reason: 'UNSUPPORTED',
            message: `${field}.key.kms: ${key.provider} keys are not supported here (${key.uri}); use key.data with the public key`,
          };
        case 'secretRef': {
          const secret = key.namespace ? `${key.namespace}/${key.name}` : key.name;
          let keys: readonly KeyObject[];
          try {
            keys = context.secretKeys?.(key) ?? [];
          } catch (error) {
            return {
              reason: 'TRUST_UNAVAILABLE',
              message: `${field}.key.secretRef: Secret ${secret}: ${reasonOf(error)}`,
            };
          }
          if (keys.length === 0) {
            return {
              reason: 'TRUST_UNAVAILABLE',
              message: `${field}.key.secretRef: expected public keys in Secret ${secret}, received none`,
            };
          }
          return { policies: keys.map((publicKey) => ({ kind: 'publicKey', key: publicKey })) };
        }
        default:
          return assertNever(key, 'key source');
      }
    }
    case 'keyless':
      return { policies: [{ kind: 'anyCertificateIdentityUnsafe' }], identities: verifier.identities };
    case 'static':
      throw new TypeError('static authorities have no signer');
    default:
      return assertNever(verifier, 'authority verifier');
  }
}

interface Verified {
  readonly identity?: string;
  readonly subject?: string;
  readonly issuer?: string;
  readonly predicateType?: string;
  readonly statement?: unknown;
}

/**
 * Every signature (or, with attestations, every attestation) of the authority's format that verifies
 * and comes from the signer; the failures and the identities that verified but did not match.
 */
function collectVerified(
  authority: Authority,
  evidence: ImageEvidence,
  verifier: Verifier,
  signer: Signer,
  imageDigest: string,
): { verified: Verified[]; failures: string[]; identitiesSeen: string[] } {
  const verified: Verified[] = [];
  const failures: string[] = [];
  const identitiesSeen: string[] = [];
  const attesting = authority.attestations.length > 0;
  const accept = (result: VerificationResult, predicateType?: string, statement?: unknown) => {
    const checked = checkIdentity(result, signer.identities);
    if (checked.matched === false) identitiesSeen.push(checked.identity);
    else verified.push({ ...checked.fields, ...(predicateType ? { predicateType, statement } : {}) });
  };
  /** Runs `run` with each signer policy until one verifies; records the first failure when none does. */
  const attempt = (run: (policy: SignerPolicy) => void) => {
    let first: unknown;
    for (const policy of signer.policies) {
      try {
        run(policy);
        return;
      } catch (error) {
        first ??= error;
      }
    }
    failures.push(reasonOf(first));
  };
  const [algorithm, hex] = imageDigest.split(':') as ['sha256', string];
  const artifact = { kind: 'digest' as const, algorithm, digest: Buffer.from(hex, 'hex') };
  if (authority.signatureFormat === 'legacy') {
    for (const layer of attesting ? evidence.attestations : evidence.signatures) {
      const cosignLayer = {
        payload: layer.payload,
        annotations: layer.annotations,
        ...(layer.descriptor ? { digest: layer.descriptor.digest } : {}),
      };
      attempt((policy) => {
        if (!attesting) {
          accept(verifyCosignSignature(verifier, cosignLayer, { imageDigest, signer: policy }));
          return;
        }
        const result = verifyCosignAttestation(verifier, cosignLayer, { imageDigest, signer: policy });
        accept(result, result.predicateType, result.statement);
      });
    }
  } else {
    for (const bundle of evidence.bundles) {
      const annotated = bundle.annotations[BUNDLE_PREDICATE_TYPE_ANNOTATION];
      if (!attesting && annotated !== undefined && annotated !== COSIGN_SIGN_PREDICATE_TYPE) continue;
      attempt((policy) => {
        const result = verifier.verify(bundle.bundle, { artifact, signer: policy });
        const predicateType = (result.statement as { predicateType?: unknown } | undefined)?.predicateType;
        if (!attesting) {
          // A message signature over the manifest, or cosign v3's DSSE "sign" statement, signs the image.
          if (result.statement === undefined || predicateType === COSIGN_SIGN_PREDICATE_TYPE) accept(result);
        } else if (typeof predicateType === 'string') {
          accept(result, predicateType, result.statement);
        }
      });
    }
  }
  return { verified, failures, identitiesSeen };
}

function checkIdentity(
  result: VerificationResult,
  identities: readonly Identity[] | undefined,
):
  | { matched: true; fields: Omit<Verified, 'predicateType' | 'statement'> }
  | { matched: false; identity: string } {
  if (result.signer.kind !== 'certificate') return { matched: true, fields: {} };
  const subject = result.signer.identity.subjectAlternativeName;
  const issuer = result.signer.identity.extensions.issuer ?? '';
  const identity = `${subject} (issuer ${issuer || 'absent'})`;
  if (identities === undefined) return { matched: true, fields: { subject, issuer } };
  const matches = identities.some(
    (each) => matchesString(each.subject, subject) && matchesString(each.issuer, issuer),
  );
  return matches ? { matched: true, fields: { identity, subject, issuer } } : { matched: false, identity };
}

/** Upstream compares `issuer`/`subject` exactly and runs `*RegExp` unanchored (Go `MatchString`). */
function matchesString(matcher: StringMatcher, value: string): boolean {
  return matcher.kind === 'exact' ? matcher.value === value : matcher.regexp.test(value);
}

function describeIdentities(identities: readonly Identity[]): string {
  const describe = (name: string, matcher: StringMatcher) =>
    matcher.kind === 'exact' ? `${name} ${matcher.value}` : `${name} matching ${matcher.pattern}`;
  return identities
    .map((each) => `${describe('subject', each.subject)} and ${describe('issuer', each.issuer)}`)
    .join(', or ');
}

const compiledPolicies = new WeakMap<
  PolicyDefinition,
  CelPolicy | { reason: AuthorityReasonCode; message: string }
>();

/**
 * The CEL program of a `policy:` block, compiled once per parsed policy, or why it cannot run: CUE and
 * Rego (upstream's languages), bodies Sigil does not fetch here (`remote`, `configMapRef`), CEL that
 * does not compile.
 */
export function compilePolicyDefinition(
  definition: PolicyDefinition,
  field: string,
  variables: readonly string[],
): CelPolicy | { reason: AuthorityReasonCode; message: string } {
  const cached = compiledPolicies.get(definition);
  if (cached) return cached;
  let compiled: CelPolicy | { reason: AuthorityReasonCode; message: string };
  const unsupported = unsupportedPolicyType(definition.type, `${field}.type`);
  if (unsupported) {
    compiled = { reason: 'UNSUPPORTED', message: unsupported.message };
  } else if (definition.body.kind !== 'data') {
    compiled = {
      reason: 'UNSUPPORTED',
      message: `${field}.${definition.body.kind}: policy bodies are not fetched here, expected data`,
    };
  } else {
    try {
      compiled = compileCelPolicy(definition.body.data, `${field}.data`, { variables });
    } catch (error) {
      compiled = { reason: 'POLICY_INVALID', message: describeError(error) };
    }
  }
  compiledPolicies.set(definition, compiled);
  return compiled;
}

function reasonOf(error: unknown): string {
  return isSigilError(error) ? `${error.code}: ${error.message}` : describeError(error);
}

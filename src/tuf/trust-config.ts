import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { TufError } from './errors.ts';

/** protobuf-specs media types (sigstore/protobuf-specs `protos/sigstore_trustroot.proto`). */
export const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';
export const SIGNING_CONFIG_MEDIA_TYPE = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';
export const CLIENT_TRUST_CONFIG_MEDIA_TYPE = 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json';

/** A transparency or CT log as the trust material names it. */
export interface TrustedLog {
  /** Base URL clients reach it at. */
  url: string;
  /** The log's public key (ECDSA P-256, P-384 or Ed25519). */
  publicKey: KeyObject;
  /** Start of the log's validity (ISO 8601). */
  validFrom: string;
}

export interface TrustedCertificateAuthority {
  url: string;
  /** DER certificates, the issuing CA first, the root last. */
  chain: readonly Uint8Array[];
  organization: string;
  commonName: string;
  validFrom: string;
}

export interface DeploymentTrust {
  /** Who runs the services (the `operator` of each entry). */
  operator: string;
  certificateAuthority: TrustedCertificateAuthority;
  /** Rekor v1 logs (they sign SETs; what clients upload to). */
  rekorV1Logs: readonly TrustedLog[];
  /** Logs read as C2SP tlog-tiles (Rekor v2): their checkpoint key is also their log ID. */
  tileLogs: readonly TrustedLog[];
  ctLogs: readonly TrustedLog[];
  /** The OIDC issuer URL clients get tokens from. */
  oidcUrl?: string;
}

/**
 * A protobuf-specs TrustedRoot (JSON) for the deployment: its CA chain, transparency logs and CT logs,
 * each with its validity start. Log IDs are SHA-256 of the key's DER SPKI (Rekor v1, RFC 6962 CT); a
 * tiles log's checkpoint key ID is the full hash its signed-note key ID is cut from (C2SP signed-note,
 * rekor-tiles: ECDSA keys hash the SPKI).
 */
export function buildTrustedRoot(trust: DeploymentTrust): Record<string, unknown> {
  const tlog = (log: TrustedLog, tiles: boolean) => {
    const entry: Record<string, unknown> = {
      baseUrl: log.url,
      hashAlgorithm: 'SHA2_256',
      publicKey: publicKeyJson(log),
      logId: { keyId: keyId(log.publicKey) },
      operator: trust.operator,
    };
    if (tiles) entry.checkpointKeyId = { keyId: keyId(log.publicKey) };
    return entry;
  };
  const ca = trust.certificateAuthority;
  return {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: [
      ...trust.rekorV1Logs.map((log) => tlog(log, false)),
      ...trust.tileLogs.map((log) => tlog(log, true)),
    ],
    certificateAuthorities: [
      {
        subject: { organization: ca.organization, commonName: ca.commonName },
        uri: ca.url,
        certChain: {
          certificates: ca.chain.map((der) => ({ rawBytes: Buffer.from(der).toString('base64') })),
        },
        validFor: { start: ca.validFrom },
        operator: trust.operator,
      },
    ],
    ctlogs: trust.ctLogs.map((log) => tlog(log, false)),
    timestampAuthorities: [],
  };
}

/**
 * SigningConfig v0.2: where clients get certificates, tokens and log entries. Only Rekor v1 logs are
 * listed for writing: a Rekor v2 entry needs an RFC 3161 timestamp, and Sigil has no TSA yet.
 */
export function buildSigningConfig(trust: DeploymentTrust): Record<string, unknown> {
  const service = (url: string, validFrom: string) => ({
    url,
    majorApiVersion: 1,
    validFor: { start: validFrom },
    operator: trust.operator,
  });
  const ca = trust.certificateAuthority;
  return {
    mediaType: SIGNING_CONFIG_MEDIA_TYPE,
    caUrls: [service(ca.url, ca.validFrom)],
    oidcUrls: trust.oidcUrl ? [service(trust.oidcUrl, ca.validFrom)] : [],
    rekorTlogUrls: trust.rekorV1Logs.map((log) => service(log.url, log.validFrom)),
    rekorTlogConfig: { selector: 'ANY' },
    tsaUrls: [],
    tsaConfig: { selector: 'ANY' },
  };
}

/** ClientTrustConfig: what `--trust-config` takes in cosign, sigstore-python and sigstore-go. */
export function buildClientTrustConfig(trust: DeploymentTrust): Record<string, unknown> {
  return {
    mediaType: CLIENT_TRUST_CONFIG_MEDIA_TYPE,
    trustedRoot: buildTrustedRoot(trust),
    signingConfig: buildSigningConfig(trust),
  };
}

function publicKeyJson(log: TrustedLog): Record<string, unknown> {
  return {
    rawBytes: spki(log.publicKey).toString('base64'),
    keyDetails: keyDetails(log.publicKey),
    validFor: { start: log.validFrom },
  };
}

/** protobuf-specs `PublicKeyDetails` of a log key. */
function keyDetails(key: KeyObject): string {
  if (key.asymmetricKeyType === 'ed25519') return 'PKIX_ED25519';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'PKIX_ECDSA_P256_SHA_256';
    if (curve === 'secp384r1') return 'PKIX_ECDSA_P384_SHA_384';
    if (curve === 'secp521r1') return 'PKIX_ECDSA_P521_SHA_512';
  }
  throw new TufError(
    'TUF_KEY_UNSUPPORTED',
    `log key: unsupported for a trusted root (${key.asymmetricKeyType})`,
  );
}

function spki(key: KeyObject): Buffer {
  return (key.type === 'public' ? key : createPublicKey(key)).export({ type: 'spki', format: 'der' });
}

function keyId(key: KeyObject): string {
  return createHash('sha256').update(spki(key)).digest('base64');
}

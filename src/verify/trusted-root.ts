import { VerificationError } from './errors.ts';
import {
  HASH_ALGORITHM_NAMES,
  HASH_ALGORITHM_NUMBERS,
  ProtoJsonReader,
  readCertificateMessage,
  readJsonDocument,
  type Item,
  type Scope,
} from './internal/protojson.ts';
import { importNamedPublicKey } from './public-key.ts';
import type {
  CertificateAuthority,
  TransparencyLogInstance,
  TrustMaterial,
  TrustedPublicKey,
  ValidityWindow,
} from './trust.types.ts';

/**
 * Trust material from a protobuf-specs TrustedRoot (`sigstore_trustroot.proto`, protojson): log keys
 * imported once as KeyObjects, CA and TSA chains cut once. Field rules follow sigstore-go
 * `pkg/root/trusted_root.go`, which the conformance suite's trust-root cases were written against.
 */

const MEDIA_TYPES = [
  'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  'application/vnd.dev.sigstore.trustedroot.v0.2+json',
];

/** protobuf-specs PublicKeyDetails numbers (protojson accepts an enum by number), deprecated ones included. */
const KEY_DETAILS_NUMBERS: Readonly<Record<number, string>> = {
  1: 'PKCS1_RSA_PKCS1V5',
  2: 'PKCS1_RSA_PSS',
  3: 'PKIX_RSA_PKCS1V5',
  4: 'PKIX_RSA_PSS',
  5: 'PKIX_ECDSA_P256_SHA_256',
  7: 'PKIX_ED25519',
  8: 'PKIX_ED25519_PH',
  9: 'PKIX_RSA_PKCS1V15_2048_SHA256',
  10: 'PKIX_RSA_PKCS1V15_3072_SHA256',
  11: 'PKIX_RSA_PKCS1V15_4096_SHA256',
  12: 'PKIX_ECDSA_P384_SHA_384',
  13: 'PKIX_ECDSA_P521_SHA_512',
  16: 'PKIX_RSA_PSS_2048_SHA256',
  17: 'PKIX_RSA_PSS_3072_SHA256',
  18: 'PKIX_RSA_PSS_4096_SHA256',
};

/** Bounds on a trusted root; the production root has 2 of each. */
export const TRUSTED_ROOT_LIMITS = {
  jsonLength: 4 * 1024 * 1024,
  instances: 64,
  certificates: 10,
  certificateBytes: 64 * 1024,
  keyBytes: 16 * 1024,
  keyIdBytes: 64,
} as const;

/**
 * Parses a TrustedRoot given as JSON text, UTF-8 bytes or a parsed JSON value. Throws
 * VERIFY_TRUST_ROOT_INVALID naming every bad field (e.g. `tlogs[1].publicKey.validFor.start`): a media
 * type other than `…trustedroot+json;version=0.1` or `…trustedroot.v0.2+json`; a log without logId,
 * hashAlgorithm, publicKey.rawBytes or publicKey.validFor.start; a key that does not import or does not
 * match its keyDetails; a CA without certificates or validFor.start. Validity windows are closed: `end`
 * is inclusive, and Infinity when absent.
 */
export function parseTrustedRoot(input: string | Uint8Array | object): TrustMaterial {
  const reader = new ProtoJsonReader();
  const document = readJsonDocument(
    input,
    'trusted root',
    TRUSTED_ROOT_LIMITS.jsonLength,
    'VERIFY_TRUST_ROOT_INVALID',
  );
  const root: Scope = { value: document, at: '' };
  const mediaType = reader.field(root, 'mediaType');
  if (!MEDIA_TYPES.includes(reader.string(mediaType))) {
    reader.fail('mediaType', `one of ${MEDIA_TYPES.join(', ')}`, mediaType?.value);
  }
  const limit = TRUSTED_ROOT_LIMITS.instances;
  const material: TrustMaterial = {
    tlogs: reader.list(reader.field(root, 'tlogs'), limit).flatMap((item) => readLog(reader, item) ?? []),
    ctlogs: reader.list(reader.field(root, 'ctlogs'), limit).flatMap((item) => readLog(reader, item) ?? []),
    certificateAuthorities: reader
      .list(reader.field(root, 'certificateAuthorities'), limit)
      .map((item) => readAuthority(reader, item)),
    timestampAuthorities: reader
      .list(reader.field(root, 'timestampAuthorities'), limit)
      .map((item) => readAuthority(reader, item)),
  };
  if (reader.failed) {
    throw new VerificationError('VERIFY_TRUST_ROOT_INVALID', `trusted root: ${reader.describe()}`);
  }
  return material;
}

/** A TransparencyLogInstance (Rekor or CT log); undefined, with the problem recorded, when it is bad. */
function readLog(reader: ProtoJsonReader, item: Item): TransparencyLogInstance | undefined {
  const log = reader.object(item, true);
  const checkpointKeyId = reader.object(reader.field(log, 'checkpointKeyId'));
  const keyIdOptions = { required: true, maxBytes: TRUSTED_ROOT_LIMITS.keyIdBytes };
  const baseUrl = reader.string(reader.field(log, 'baseUrl'), { maxLength: 2048 });
  const hashItem = reader.field(log, 'hashAlgorithm');
  const hashAlgorithm = reader.enumeration(hashItem, HASH_ALGORITHM_NAMES, HASH_ALGORITHM_NUMBERS);
  const publicKey = readPublicKey(reader, reader.object(reader.field(log, 'publicKey'), true));
  const logId = reader.bytes(
    reader.field(reader.object(reader.field(log, 'logId'), true), 'keyId'),
    keyIdOptions,
  );
  if (!hashAlgorithm || !publicKey) return undefined;
  return {
    baseUrl,
    hashAlgorithm,
    publicKey,
    logId,
    ...(checkpointKeyId && {
      checkpointKeyId: reader.bytes(reader.field(checkpointKeyId, 'keyId'), keyIdOptions),
    }),
  };
}

/** A PublicKey with its keyDetails and validity, imported here once; undefined when it is bad. */
function readPublicKey(reader: ProtoJsonReader, scope: Scope | undefined): TrustedPublicKey | undefined {
  const rawBytes = reader.field(scope, 'rawBytes');
  const der = reader.bytes(rawBytes, { required: true, maxBytes: TRUSTED_ROOT_LIMITS.keyBytes });
  const detailsItem = reader.field(scope, 'keyDetails');
  const keyDetails = readKeyDetails(reader, detailsItem);
  const validFor = readValidity(reader, reader.object(reader.field(scope, 'validFor'), scope !== undefined));
  if (scope && der.length > 0 && keyDetails) {
    try {
      return { ...importNamedPublicKey(der, keyDetails, scope.at), validFor };
    } catch (error) {
      if (!(error instanceof VerificationError)) throw error;
      reader.report(error.message);
    }
  }
  return undefined;
}

function readKeyDetails(reader: ProtoJsonReader, item: Item | undefined): string | undefined {
  if (!item) return undefined;
  const { value } = item;
  if (typeof value === 'string' && value.length > 0 && value.length <= 64) return value;
  if (typeof value === 'number' && Object.hasOwn(KEY_DETAILS_NUMBERS, value))
    return KEY_DETAILS_NUMBERS[value];
  reader.fail(item.at, 'a PublicKeyDetails name', value);
  return undefined;
}

/** A TimeRange: `start` is required (sigstore-go refuses a log key without one), `end` optional. */
function readValidity(reader: ProtoJsonReader, scope: Scope | undefined): ValidityWindow {
  const start = reader.timestamp(reader.field(scope, 'start'), 'up', true) ?? 0;
  const end = reader.timestamp(reader.field(scope, 'end'), 'down', false) ?? Infinity;
  if (scope && start > end) reader.failWith(`${scope.at}.end`, 'a time after start', 'an earlier one');
  return { start, end };
}

/** A CertificateAuthority (Fulcio or a TSA): its chain, issuing certificate first, root last. */
function readAuthority(reader: ProtoJsonReader, item: Item): CertificateAuthority {
  const authority = reader.object(item, true);
  const subject = reader.object(reader.field(authority, 'subject'));
  const organization = reader.string(reader.field(subject, 'organization'), { maxLength: 1024 });
  const commonName = reader.string(reader.field(subject, 'commonName'), { maxLength: 1024 });
  const chain = reader
    .list(
      reader.field(reader.object(reader.field(authority, 'certChain'), true), 'certificates'),
      TRUSTED_ROOT_LIMITS.certificates,
      1,
    )
    .map((certificate) => readCertificateMessage(reader, certificate, TRUSTED_ROOT_LIMITS.certificateBytes));
  return {
    uri: reader.string(reader.field(authority, 'uri'), { maxLength: 2048 }),
    subject: { ...(organization && { organization }), ...(commonName && { commonName }) },
    chain: chain.filter((certificate) => certificate !== undefined),
    validFor: readValidity(
      reader,
      reader.object(reader.field(authority, 'validFor'), authority !== undefined),
    ),
  };
}

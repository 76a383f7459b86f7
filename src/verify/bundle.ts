import type { ParsedCertificate } from '../core/index.ts';
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
import type {
  Bundle,
  BundleContent,
  BundleSigner,
  BundleVersion,
  HashAlgorithmName,
  InclusionProof,
  TlogEntry,
} from './bundle.types.ts';

/**
 * The bundle step: a Sigstore bundle (protobuf-specs `sigstore_bundle.proto`, protojson) checked and
 * decoded into a Bundle. Shape and version rules follow sigstore-js `@sigstore/bundle` validate.ts and
 * sigstore-go `pkg/bundle/bundle.go`; what the fields mean (signatures, proofs, chains) is for the
 * later steps.
 */

const MEDIA_TYPES: Readonly<Record<string, BundleVersion>> = {
  'application/vnd.dev.sigstore.bundle+json;version=0.1': '0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2': '0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3': '0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json': '0.3',
};

const DIGEST_LENGTHS: Readonly<Record<HashAlgorithmName, number>> = {
  SHA2_256: 32,
  SHA2_384: 48,
  SHA2_512: 64,
  SHA3_256: 32,
  SHA3_384: 48,
};

/** Bounds on what one bundle may hold, far above what any signer writes, so hostile input stays cheap. */
export const BUNDLE_LIMITS = {
  /** Largest bundle text accepted, in UTF-16 code units. */
  jsonLength: 32 * 1024 * 1024,
  tlogEntries: 32,
  timestamps: 32,
  certificates: 10,
  proofHashes: 64,
  dsseSignatures: 16,
  certificateBytes: 64 * 1024,
  /** DSSE payloads and log entry bodies (attestations carry whole SBOMs). */
  payloadBytes: 16 * 1024 * 1024,
  signatureBytes: 16 * 1024,
  hashBytes: 64,
  timestampBytes: 64 * 1024,
  checkpointLength: 64 * 1024,
} as const;

/**
 * Parses a bundle given as JSON text, UTF-8 bytes, or an already parsed JSON value. Every base64 field
 * is decoded strictly, every int64 checked to be a non-negative safe integer, every certificate cut
 * with parseCertificate. Throws VerificationError:
 * - VERIFY_BUNDLE_UNSUPPORTED_VERSION when mediaType is a string but not one of the four known;
 * - VERIFY_BUNDLE_INVALID for anything else that is wrong, naming every bad field in one message.
 *
 * Version rules: v0.1 requires an inclusionPromise on every tlog entry; v0.2 and later an
 * inclusionProof on every entry; v0.3 a `certificate` or `publicKey`, not an `x509CertificateChain`.
 * An inclusion proof without a checkpoint is kept with `checkpoint: ''`: the verifier checks the proof
 * against its root hash alone for v0.1 (whose SET vouches for the entry) and refuses it from v0.2 on.
 */
export function parseBundle(input: string | Uint8Array | object): Bundle {
  const document = readJsonDocument(input, 'bundle', BUNDLE_LIMITS.jsonLength, 'VERIFY_BUNDLE_INVALID');
  const reader = new ProtoJsonReader();
  const root: Scope = { value: document, at: '' };
  const { mediaType, version } = readMediaType(reader, root);
  const material = reader.object(reader.field(root, 'verificationMaterial'), true);
  const signer = readSigner(reader, material, version);
  const tlogEntries = reader
    .list(reader.field(material, 'tlogEntries'), BUNDLE_LIMITS.tlogEntries)
    .map((item) => readTlogEntry(reader, item, version));
  const timestampData = reader.object(reader.field(material, 'timestampVerificationData'));
  const rfc3161Timestamps = reader
    .list(reader.field(timestampData, 'rfc3161Timestamps'), BUNDLE_LIMITS.timestamps)
    .map((item) =>
      reader.bytes(reader.field(reader.object(item, true), 'signedTimestamp'), {
        required: true,
        maxBytes: BUNDLE_LIMITS.timestampBytes,
      }),
    );
  const content = readContent(reader, root);
  if (reader.failed || !signer || !content) {
    throw new VerificationError('VERIFY_BUNDLE_INVALID', `bundle: ${reader.describe()}`);
  }
  return {
    mediaType,
    version,
    verificationMaterial: { signer, tlogEntries, rfc3161Timestamps },
    content,
  };
}

function readMediaType(reader: ProtoJsonReader, root: Scope): { mediaType: string; version: BundleVersion } {
  const mediaType = reader.field(root, 'mediaType')?.value;
  if (typeof mediaType !== 'string') {
    const received = mediaType === undefined ? 'nothing' : typeof mediaType;
    throw new VerificationError(
      'VERIFY_BUNDLE_INVALID',
      `bundle: mediaType: expected a string, received ${received}`,
    );
  }
  const version = Object.hasOwn(MEDIA_TYPES, mediaType) ? MEDIA_TYPES[mediaType] : undefined;
  if (!version) {
    throw new VerificationError(
      'VERIFY_BUNDLE_UNSUPPORTED_VERSION',
      `bundle: mediaType: expected one of ${Object.keys(MEDIA_TYPES).join(', ')}, received ${JSON.stringify(mediaType.slice(0, 100))}`,
    );
  }
  return { mediaType, version };
}

function readSigner(
  reader: ProtoJsonReader,
  material: Scope | undefined,
  version: BundleVersion,
): BundleSigner | undefined {
  const chosen = reader.oneOf(material, ['publicKey', 'x509CertificateChain', 'certificate'], true);
  if (!chosen) return undefined;
  if (chosen.at.endsWith('.publicKey')) {
    const hint = reader.string(reader.field(reader.object(chosen), 'hint'), { maxLength: 1024 });
    return { kind: 'publicKey', hint };
  }
  if (chosen.at.endsWith('.certificate')) {
    const certificate = readCertificateMessage(reader, chosen, BUNDLE_LIMITS.certificateBytes);
    return certificate && { kind: 'certificate', certificate, chain: [certificate] };
  }
  // sigstore-go pkg/bundle: "verification material cannot be X.509 certificate chain (for bundle v0.3)".
  if (version === '0.3') {
    reader.fail(chosen.at, 'certificate or publicKey in a v0.3 bundle', 'x509CertificateChain');
    return undefined;
  }
  const items = reader.list(
    reader.field(reader.object(chosen), 'certificates'),
    BUNDLE_LIMITS.certificates,
    1,
  );
  const chain = items
    .map((item) => readCertificateMessage(reader, item, BUNDLE_LIMITS.certificateBytes))
    .filter((certificate): certificate is ParsedCertificate => certificate !== undefined);
  const [leaf] = chain;
  if (!leaf || chain.length !== items.length) return undefined;
  return { kind: 'certificate', certificate: leaf, chain };
}

/** A TransparencyLogEntry (sigstore_rekor.proto), its fields read in proto order. */
function readTlogEntry(reader: ProtoJsonReader, item: Item, version: BundleVersion): TlogEntry {
  const entry = reader.object(item, true);
  const logIndex = reader.int64(reader.field(entry, 'logIndex'));
  const logIdScope = reader.object(reader.field(entry, 'logId'), true);
  const logId = reader.bytes(reader.field(logIdScope, 'keyId'), {
    required: true,
    maxBytes: BUNDLE_LIMITS.hashBytes,
  });
  const kindVersion = reader.object(reader.field(entry, 'kindVersion'), true);
  const kind = reader.string(reader.field(kindVersion, 'kind'), { required: true, maxLength: 64 });
  const kindVersionVersion = reader.string(reader.field(kindVersion, 'version'), {
    required: true,
    maxLength: 64,
  });
  const integratedTime = reader.int64(reader.field(entry, 'integratedTime'));
  // sigstore-js assertBundleV01 / sigstore-go pkg/bundle: v0.1 needs promises, v0.2 on needs proofs.
  const promise = reader.object(
    reader.field(entry, 'inclusionPromise'),
    version === '0.1',
    'an inclusionPromise in a v0.1 bundle',
  );
  const signedEntryTimestamp = promise
    ? reader.bytes(reader.field(promise, 'signedEntryTimestamp'), {
        required: true,
        maxBytes: BUNDLE_LIMITS.signatureBytes,
      })
    : undefined;
  const proof = reader.object(
    reader.field(entry, 'inclusionProof'),
    version !== '0.1',
    `an inclusionProof in a v${version} bundle`,
  );
  const inclusionProof = proof && readInclusionProof(reader, proof, version);
  const canonicalizedBody = reader.bytes(reader.field(entry, 'canonicalizedBody'), {
    required: true,
    maxBytes: BUNDLE_LIMITS.payloadBytes,
  });
  return {
    logIndex,
    logId,
    kindVersion: { kind, version: kindVersionVersion },
    integratedTime,
    ...(signedEntryTimestamp && { signedEntryTimestamp }),
    ...(inclusionProof && { inclusionProof }),
    canonicalizedBody,
  };
}

function readInclusionProof(reader: ProtoJsonReader, proof: Scope, version: BundleVersion): InclusionProof {
  // From v0.2 on every inclusion proof MUST carry its checkpoint (sigstore-js assertBundleLatest refuses
  // the bundle here). It is kept as '' instead, so that the verifier can first say whether the proof
  // itself holds and then refuse the missing checkpoint (VERIFY_TLOG_CHECKPOINT_ERROR): the reason a
  // stale proof without one fails is its proof (conformance invalid-inclusion-proof_fail).
  const checkpointItem = reader.field(proof, 'checkpoint');
  const checkpoint = reader.object(checkpointItem, false, `a checkpoint in a v${version} bundle`);
  return {
    logIndex: reader.int64(reader.field(proof, 'logIndex')),
    rootHash: reader.bytes(reader.field(proof, 'rootHash'), {
      required: true,
      maxBytes: BUNDLE_LIMITS.hashBytes,
    }),
    treeSize: reader.int64(reader.field(proof, 'treeSize')),
    hashes: reader
      .list(reader.field(proof, 'hashes'), BUNDLE_LIMITS.proofHashes)
      .map((hash) => reader.bytes(hash, { required: true, maxBytes: BUNDLE_LIMITS.hashBytes })),
    checkpoint: checkpoint
      ? reader.string(reader.field(checkpoint, 'envelope'), {
          required: true,
          maxLength: BUNDLE_LIMITS.checkpointLength,
        })
      : '',
  };
}

function readContent(reader: ProtoJsonReader, root: Scope): BundleContent | undefined {
  const chosen = reader.oneOf(root, ['messageSignature', 'dsseEnvelope'], true);
  const scope = reader.object(chosen);
  if (!scope) return undefined;
  if (scope.at === 'messageSignature') {
    const signature = reader.bytes(reader.field(scope, 'signature'), {
      required: true,
      maxBytes: BUNDLE_LIMITS.signatureBytes,
    });
    const digestScope = reader.object(reader.field(scope, 'messageDigest'));
    if (!digestScope) return { kind: 'messageSignature', signature };
    const algorithm = reader.enumeration(
      reader.field(digestScope, 'algorithm'),
      HASH_ALGORITHM_NAMES,
      HASH_ALGORITHM_NUMBERS,
    );
    const digestItem = reader.field(digestScope, 'digest');
    const digest = reader.bytes(digestItem, { required: true, maxBytes: BUNDLE_LIMITS.hashBytes });
    if (algorithm && digestItem && digest.length > 0 && digest.length !== DIGEST_LENGTHS[algorithm]) {
      reader.failWith(
        digestItem.at,
        `a ${DIGEST_LENGTHS[algorithm]}-byte ${algorithm} digest`,
        `${digest.length} bytes`,
      );
    }
    return algorithm && { kind: 'messageSignature', messageDigest: { algorithm, digest }, signature };
  }
  return {
    kind: 'dsseEnvelope',
    payloadType: reader.string(reader.field(scope, 'payloadType'), { required: true, maxLength: 256 }),
    payload: reader.bytes(reader.field(scope, 'payload'), {
      required: true,
      maxBytes: BUNDLE_LIMITS.payloadBytes,
    }),
    signatures: reader
      .list(reader.field(scope, 'signatures'), BUNDLE_LIMITS.dsseSignatures, 1)
      .map((item) => {
        const signature = reader.object(item, true);
        return {
          sig: reader.bytes(reader.field(signature, 'sig'), {
            required: true,
            maxBytes: BUNDLE_LIMITS.signatureBytes,
          }),
          keyid: reader.string(reader.field(signature, 'keyid'), { maxLength: 1024 }),
        };
      }),
  };
}

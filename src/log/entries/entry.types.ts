/**
 * The entry kinds the log accepts, each as the exact JSON object Rekor stores as the leaf (before
 * RFC 8785 canonicalization). A `body` holds strings exactly as they appear in the leaf: base64 where
 * upstream marshals bytes, hex where upstream stores hex. Canonicalizing a body is therefore only JCS.
 *
 * Upstream shapes:
 * - hashedrekord 0.0.1: sigstore/rekor `pkg/types/hashedrekord/v0.0.1/entry.go` Canonicalize
 * - dsse 0.0.1: sigstore/rekor `pkg/types/dsse/v0.0.1/entry.go` Canonicalize
 * - intoto 0.0.2: sigstore/rekor `pkg/types/intoto/v0.0.2/entry.go` Canonicalize
 * - hashedrekord 0.0.2 and dsse 0.0.2: sigstore/rekor-tiles `api/proto/rekor/v2/{entry,hashedrekord,
 *   dsse,verifier}.proto`, serialized with protojson (`pkg/types/hashedrekord/hashedrekord.go`,
 *   `pkg/types/dsse/dsse.go` before v2.3.0)
 */

/** Digest algorithms of Rekor v1 entries (`data.hash.algorithm`). */
export type HashAlgorithm = 'sha256' | 'sha384' | 'sha512';

/** Digest algorithms of Rekor v2 entries: protobuf-specs `HashAlgorithm` names. */
export type ProtoHashAlgorithm = 'SHA2_256' | 'SHA2_384' | 'SHA2_512';

/**
 * The protobuf-specs `PublicKeyDetails` names the log understands (sigstore/sigstore
 * `pkg/signature/algorithm_registry.go` supportedAlgorithms). Whether one is permitted is decided
 * separately (see algorithm-policy.ts).
 */
export type PublicKeyDetails =
  | 'PKIX_RSA_PKCS1V15_2048_SHA256'
  | 'PKIX_RSA_PKCS1V15_3072_SHA256'
  | 'PKIX_RSA_PKCS1V15_4096_SHA256'
  | 'PKIX_RSA_PSS_2048_SHA256'
  | 'PKIX_RSA_PSS_3072_SHA256'
  | 'PKIX_RSA_PSS_4096_SHA256'
  | 'PKIX_ECDSA_P256_SHA_256'
  | 'PKIX_ECDSA_P384_SHA_384'
  | 'PKIX_ECDSA_P521_SHA_512'
  | 'PKIX_ED25519'
  | 'PKIX_ED25519_PH';

/** A SHA-256 reference as Rekor v1 stores it: lower-case hex. */
export interface Sha256Reference {
  readonly algorithm: 'sha256';
  readonly value: string;
}

export interface HashedRekordV001Body {
  readonly apiVersion: '0.0.1';
  readonly kind: 'hashedrekord';
  readonly spec: {
    readonly data: { readonly hash: { readonly algorithm: HashAlgorithm; readonly value: string } };
    /** `content` is the base64 signature; `publicKey.content` the base64 of a canonical PEM. */
    readonly signature: { readonly content: string; readonly publicKey: { readonly content: string } };
  };
}

export interface DsseV001Signature {
  /** The envelope's base64 signature string, verbatim. */
  readonly signature: string;
  /** Base64 of the canonical PEM of the key or certificate that verified it. */
  readonly verifier: string;
}

export interface DsseV001Body {
  readonly apiVersion: '0.0.1';
  readonly kind: 'dsse';
  readonly spec: {
    readonly envelopeHash: Sha256Reference;
    readonly payloadHash: Sha256Reference;
    /** Sorted by `signature`. */
    readonly signatures: readonly DsseV001Signature[];
  };
}

export interface IntotoV002Signature {
  readonly keyid?: string;
  /** Base64 of the envelope's base64 signature string (upstream encodes twice). */
  readonly sig: string;
  /** Base64 of a PEM key or certificate. */
  readonly publicKey: string;
}

export interface IntotoV002Body {
  readonly apiVersion: '0.0.2';
  readonly kind: 'intoto';
  readonly spec: {
    readonly content: {
      readonly envelope: {
        /** Only in leaves written by early Rekor versions; never produced for a new entry. */
        readonly payload?: string;
        readonly payloadType: string;
        readonly signatures: readonly IntotoV002Signature[];
      };
      /** Client-supplied; upstream cannot recompute it and stores it as given. */
      readonly hash: Sha256Reference;
      readonly payloadHash: Sha256Reference;
    };
  };
}

/** A protobuf `Verifier`: exactly one of `publicKey` (DER SPKI) or `x509Certificate` (DER). */
export type VerifierV002 =
  | { readonly keyDetails: PublicKeyDetails; readonly publicKey: { readonly rawBytes: string } }
  | { readonly keyDetails: PublicKeyDetails; readonly x509Certificate: { readonly rawBytes: string } };

export interface SignatureV002 {
  /** Base64 of the raw signature. */
  readonly content: string;
  readonly verifier: VerifierV002;
}

export interface HashedRekordV002Body {
  readonly apiVersion: '0.0.2';
  readonly kind: 'hashedrekord';
  readonly spec: {
    readonly hashedRekordV002: {
      readonly data: { readonly algorithm: ProtoHashAlgorithm; readonly digest: string };
      readonly signature: SignatureV002;
    };
  };
}

export interface DsseV002Body {
  readonly apiVersion: '0.0.2';
  readonly kind: 'dsse';
  readonly spec: {
    readonly dsseV002: {
      readonly payloadHash: { readonly algorithm: 'SHA2_256'; readonly digest: string };
      /** Sorted by the raw signature bytes. */
      readonly signatures: readonly SignatureV002[];
    };
  };
}

/** The DSSE payload of a proposed dsse or intoto entry; leaves do not keep it. */
export interface EnvelopePayload {
  readonly payloadType: string;
  readonly payload: Uint8Array;
}

interface EntryOf<T extends string, B> {
  /** `kind/apiVersion`, the discriminant. */
  readonly type: T;
  /** The canonical struct; its RFC 8785 serialization is the leaf. */
  readonly body: B;
  /** Present when the entry was parsed from a proposal that carried a DSSE envelope. */
  readonly envelope?: EnvelopePayload;
}

export type HashedRekordV001Entry = EntryOf<'hashedrekord/0.0.1', HashedRekordV001Body>;
export type DsseV001Entry = EntryOf<'dsse/0.0.1', DsseV001Body>;
export type IntotoV002Entry = EntryOf<'intoto/0.0.2', IntotoV002Body>;
export type HashedRekordV002Entry = EntryOf<'hashedrekord/0.0.2', HashedRekordV002Body>;
export type DsseV002Entry = EntryOf<'dsse/0.0.2', DsseV002Body>;

/** A validated, verified Rekor entry, tagged by kind and version. */
export type RekorEntry =
  HashedRekordV001Entry | DsseV001Entry | IntotoV002Entry | HashedRekordV002Entry | DsseV002Entry;

export type RekorEntryType = RekorEntry['type'];

/** Which write API a proposal came through: Rekor v1 ProposedEntry or Rekor v2 CreateEntryRequest. */
export type EntryApi = 'v1' | 'v2';

/**
 * What the search index stores for an entry (sigstore/rekor `pkg/types/<kind>/<version>/entry.go`
 * IndexKeys; `pkg/indexstorage/redis/redis.go` lower-cases every key). All values are lower case.
 */
export interface EntrySearchKeys {
  /** `<algorithm>:<hex>`: the signed digest or payload hash, plus in-toto subject and material digests. */
  readonly artifactHashes: readonly string[];
  /** Hex SHA-256 of each verifier's canonical PEM (certificate or public key), as `/index/retrieve` looks it up. */
  readonly publicKeyHashes: readonly string[];
  /** Subject alternative names of each certificate: DNS, email, IP, URI and the Fulcio OtherName. */
  readonly subjects: readonly string[];
}

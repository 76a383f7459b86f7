/**
 * The types of C2SP signed-note (c2sp.org/signed-note): signature lines, verifiers, signers and the
 * signature type registry. The operations on them are in signed-note.ts.
 */

/** Signature type identifier bytes (C2SP signed-note §Signature types). */
export const NoteSignatureType = {
  ed25519: 0x01,
  /** ECDSA over SHA-256 with a DER SPKI key, as transparency-dev/witness and Rekor v1 sign. */
  ecdsa: 0x02,
  /** Timestamped Ed25519 witness cosignature (c2sp.org/tlog-cosignature). */
  cosignatureEd25519: 0x04,
  /** RFC 6962 TreeHeadSignature (c2sp.org/static-ct-api). */
  rfc6962TreeHead: 0x05,
} as const;
export type NoteSignatureType = (typeof NoteSignatureType)[keyof typeof NoteSignatureType];

/** Checks one signature by one key. The pair (keyName, keyId) identifies the key. */
export interface NoteVerifier {
  readonly keyName: string;
  /** The 32-bit key ID, as an unsigned integer. */
  readonly keyId: number;
  /** Whether `signature` (the bytes after the key ID) signs `text`. MUST return false, not throw. */
  verify(text: string, signature: Uint8Array): boolean;
}

/** A verifier built by this module: it knows its signature type and its vkey string. */
export interface TypedNoteVerifier<T extends NoteSignatureType = NoteSignatureType> extends NoteVerifier {
  readonly signatureType: T;
  /** `<name>+<hex key ID>+<base64(type || public key)>`, as a verifier is configured. */
  readonly verifierKey: string;
}

/** Produces the signature bytes (without key ID) over a note text. */
export interface NoteSigner {
  readonly keyName: string;
  readonly keyId: number;
  sign(text: string): Uint8Array;
}

/** One signature line, parsed but not checked. */
export interface NoteSignature {
  readonly keyName: string;
  readonly keyId: number;
  /** The signature bytes after the 4-byte key ID. */
  readonly signature: Uint8Array;
}

export interface SignedNote {
  /** The text, including its final newline but not the separating blank line. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

export interface VerifiedNoteSignature extends NoteSignature {
  readonly verifier: NoteVerifier;
}

/** A note whose text may be trusted: at least one signature by a known key verified. */
export interface OpenedNote {
  readonly text: string;
  /** Signatures by known keys, each verified; a repeated key counts once. */
  readonly verified: readonly VerifiedNoteSignature[];
  /** Signatures by keys not among the verifiers, ignored as the spec requires; exact repeats dropped. */
  readonly unverified: readonly NoteSignature[];
}

export interface NoteLimits {
  /** Largest note accepted, in bytes of UTF-8. Default 1 MiB. */
  maxBytes?: number;
  /** Most signature lines accepted. Default 100 (as sumdb/note); the spec requires at least 16. */
  maxSignatures?: number;
}

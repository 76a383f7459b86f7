export { parseProposedEntry } from './parse-proposed-entry.ts';
export { parseLoggedEntry } from './parse-logged-entry.ts';
export { canonicalizeEntry, entryKindVersion } from './canonicalize-entry.ts';
export { entrySearchKeys } from './search-keys.ts';
export { verifyDigestSignature } from './digest-signature.ts';
export type { ParseEntryOptions } from './entry-limits.ts';
export type {
  RekorEntry,
  RekorEntryType,
  EntryApi,
  EntrySearchKeys,
  EnvelopePayload,
  HashAlgorithm,
  ProtoHashAlgorithm,
  PublicKeyDetails,
  HashedRekordV001Entry,
  HashedRekordV001Body,
  DsseV001Entry,
  DsseV001Body,
  DsseV001Signature,
  IntotoV002Entry,
  IntotoV002Body,
  IntotoV002Signature,
  HashedRekordV002Entry,
  HashedRekordV002Body,
  DsseV002Entry,
  DsseV002Body,
  SignatureV002,
  VerifierV002,
  Sha256Reference,
} from './entry.types.ts';

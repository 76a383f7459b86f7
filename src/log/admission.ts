import { decodeUtf8, isSigilError, parseJson } from '../core/index.ts';
import { hashLeaf } from '../merkle/index.ts';
import {
  canonicalizeEntry,
  entryKindVersion,
  entrySearchKeys,
  parseProposedEntry,
  type EntryApi,
  type ParseEntryOptions,
} from './entries/index.ts';
import { LogError } from './errors.ts';
import { searchKeysOf } from './search-index.ts';

/**
 * A proposed entry the log has validated and verified, reduced to what appending it needs: the
 * canonical body (the leaf), its RFC 6962 leaf hash, its search-index keys, and its kind and version.
 * Everything here is plain data, so it crosses a worker-thread boundary as it is.
 */
export interface AdmittedEntry {
  readonly leaf: Uint8Array;
  readonly leafHash: Uint8Array;
  readonly searchKeys: readonly string[];
  readonly kindVersion: { readonly kind: string; readonly version: string };
}

/**
 * Turns request bodies into admitted entries: on this thread (inProcessAdmitter) or on a pool of
 * worker threads (admission-pool.ts), which is where the API layer sends them so that signature
 * verification runs on every core. Both answer the same entry and the same errors for the same bytes.
 */
export interface EntryAdmitter {
  /** The admitted entry of `body`, a JSON request of `api`; rejects with the LogError that refuses it. */
  admit(api: EntryApi, body: Uint8Array): Promise<AdmittedEntry>;
  close(): Promise<void>;
}

/** Validates and verifies a parsed ProposedEntry (v1) or CreateEntryRequest (v2) and reduces it. */
export function admitProposal(api: EntryApi, proposal: unknown, options?: ParseEntryOptions): AdmittedEntry {
  const entry = parseProposedEntry(proposal, api, options);
  const leaf = canonicalizeEntry(entry);
  return {
    leaf,
    leafHash: hashLeaf(leaf),
    searchKeys: searchKeysOf(entrySearchKeys(entry)),
    kindVersion: entryKindVersion(entry),
  };
}

/**
 * admitProposal over the raw bytes of a request body. Bytes that are not UTF-8 JSON are refused with
 * LOG_ENTRY_INVALID naming the request body.
 */
export function admitRequestBody(
  api: EntryApi,
  body: Uint8Array,
  options?: ParseEntryOptions,
): AdmittedEntry {
  let proposal: unknown;
  try {
    proposal = parseJson(decodeUtf8(body, 'request body'), { field: 'request body', maxLength: Infinity });
  } catch (error) {
    if (!isSigilError(error)) throw error;
    throw new LogError('LOG_ENTRY_INVALID', error.message, { cause: error });
  }
  return admitProposal(api, proposal, options);
}

/** An EntryAdmitter that admits on the calling thread. */
export function inProcessAdmitter(options?: ParseEntryOptions): EntryAdmitter {
  return {
    // A throw in the executor rejects the promise.
    admit: (api, body) => new Promise((resolve) => resolve(admitRequestBody(api, body, options))),
    close: () => Promise.resolve(),
  };
}

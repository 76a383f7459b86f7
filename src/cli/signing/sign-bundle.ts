import { bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder, MessageSignatureBundleBuilder, RekorWitness } from '@sigstore/sign';
import { signerFor, type SigningIdentity } from './signers.ts';

/** A Sigstore bundle in its JSON form (protobuf-specs v0.3), as written to files and registries. */
export type SerializedBundle = ReturnType<typeof bundleToJSON>;

export interface SignBundleOptions {
  readonly identity: SigningIdentity;
  /** The Rekor v1 API base URL the entry is written to. */
  readonly rekorUrl: string;
  /** Per request to the CA and the log, in ms. Default 30 000. */
  readonly timeoutMs?: number;
}

/**
 * Signs `payload` as a message signature (SHA-256 of the bytes, as cosign signs a simple-signing
 * payload), logs it in Rekor as hashedrekord and returns the v0.3 bundle with the entry's inclusion
 * proof and SET. Uses sigstore-js's builders against our CA and log: the same requests sigstore-js
 * makes, so what `sigil sign` produces is what any Sigstore client would.
 */
export async function signMessageBundle(
  payload: Uint8Array,
  options: SignBundleOptions,
): Promise<SerializedBundle> {
  const builder = new MessageSignatureBundleBuilder({
    signer: signerFor(options.identity, options.timeoutMs),
    witnesses: [rekorWitness(options)],
  });
  return bundleToJSON(await builder.create({ data: Buffer.from(payload) }));
}

/**
 * Signs `payload` in a DSSE envelope of `payloadType` and logs it as `entryType` (cosign's legacy
 * attestations use intoto 0.0.2, Sigstore bundles dsse 0.0.1).
 */
export async function signDsseBundle(
  payload: Uint8Array,
  payloadType: string,
  options: SignBundleOptions & { readonly entryType: 'dsse' | 'intoto' },
): Promise<SerializedBundle> {
  const builder = new DSSEBundleBuilder({
    signer: signerFor(options.identity, options.timeoutMs),
    witnesses: [rekorWitness(options, options.entryType)],
  });
  return bundleToJSON(await builder.create({ data: Buffer.from(payload), type: payloadType }));
}

function rekorWitness(options: SignBundleOptions, entryType?: 'dsse' | 'intoto'): RekorWitness {
  return new RekorWitness({
    rekorBaseURL: options.rekorUrl,
    fetchOnConflict: true,
    timeout: options.timeoutMs ?? 30_000,
    ...(entryType ? { entryType } : {}),
  });
}

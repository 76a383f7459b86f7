import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { VerificationError, type VerificationErrorCode } from '../../src/verify/errors.ts';
import { parseBundle } from '../../src/verify/bundle.ts';
import type { Bundle, TlogEntry } from '../../src/verify/bundle.types.ts';
import type { TlogBodySigner } from '../../src/verify/tlog-body.ts';
import { findTlog } from '../../src/verify/tlog-instance.ts';
import type { TransparencyLogInstance, TrustMaterial } from '../../src/verify/trust.types.ts';
import { parseTrustedRoot } from '../../src/verify/trusted-root.ts';
import { vectorPath } from '../tools/vectors.ts';

/**
 * The transparency-log material of a sigstore-conformance `bundle-verify` case (shared/vectors,
 * upstream sigstore/sigstore-conformance @ a73de497; each case's README states its outcome): the parsed
 * bundle, its first tlog entry, the case's trusted root (the production root of
 * npm-provenance/sigstore-tuf-trusted_root.json when the case has none), the log the entry names, and
 * the signer its body must name (the bundle's leaf certificate, or the case's key.pub).
 */
export interface TlogCase {
  readonly bundle: Bundle;
  readonly entry: TlogEntry;
  readonly trust: TrustMaterial;
  readonly log: TransparencyLogInstance;
  readonly signer: TlogBodySigner;
}

const trustCache = new Map<string, TrustMaterial>();

export function loadTlogCase(name: string): TlogCase {
  const dir = vectorPath(`sigstore-conformance/bundle-verify/${name}`);
  const bundle = parseBundle(readFileSync(`${dir}/bundle.sigstore.json`));
  const rootPath = existsSync(`${dir}/trusted_root.json`)
    ? `${dir}/trusted_root.json`
    : vectorPath('npm-provenance/sigstore-tuf-trusted_root.json');
  const trust = loadTrust(rootPath);
  const [entry] = bundle.verificationMaterial.tlogEntries;
  if (entry === undefined) throw new Error(`${name}: the bundle has no tlog entry`);
  const { signer: bundleSigner } = bundle.verificationMaterial;
  const signer: TlogBodySigner =
    bundleSigner.kind === 'certificate'
      ? { certificate: bundleSigner.certificate }
      : {
          publicKeyDer: new Uint8Array(
            createPublicKey(readFileSync(`${dir}/key.pub`, 'utf8')).export({ type: 'spki', format: 'der' }),
          ),
        };
  return {
    bundle,
    entry,
    trust,
    signer,
    // Looked up on use, so a case whose log is not trusted still loads.
    get log() {
      return findTlog(entry, trust.tlogs);
    },
  };
}

/** A trusted root parsed once per file, as a Verifier holds it: caches keyed by log stay warm. */
export function loadTrust(path: string): TrustMaterial {
  let trust = trustCache.get(path);
  if (trust === undefined) {
    trust = parseTrustedRoot(readFileSync(path));
    trustCache.set(path, trust);
  }
  return trust;
}

/** A copy of `bytes` with bit 0 of byte `index` flipped. */
export function flipByte(bytes: Uint8Array, index: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

/** An assert.throws validator: a VerificationError with `code`, whose message names `field` if given. */
export function failsWith(code: VerificationErrorCode, field?: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof VerificationError, `expected a VerificationError, received ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (field !== undefined)
      assert.ok(error.message.includes(field), `expected ${field} in: ${error.message}`);
    return true;
  };
}

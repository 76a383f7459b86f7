// Keys, certificates and proposals made fresh for each test run. Certificates are self-signed with the
// openssl CLI (node:crypto cannot issue them); signatures come from node:crypto, except Ed25519ph,
// which node cannot produce and @noble/curves does.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519ph } from '@noble/curves/ed25519.js';
import { LogError, type LogErrorCode } from '../../../src/log/errors.ts';

export type KeyKind = 'p256' | 'p384' | 'p521' | 'rsa2048' | 'rsa1024' | 'ed25519' | 'secp256k1';

export interface TestKey {
  readonly kind: KeyKind;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly spkiDer: Uint8Array;
  readonly publicPem: string;
}

const cache = new Map<KeyKind, TestKey>();

/** One key per kind and test process: generating RSA keys is slow. */
export function testKey(kind: KeyKind): TestKey {
  const cached = cache.get(kind);
  if (cached) return cached;
  const key = generateTestKey(kind);
  cache.set(kind, key);
  return key;
}

export function generateTestKey(kind: KeyKind): TestKey {
  const pair = (() => {
    switch (kind) {
      case 'p256':
        return generateKeyPairSync('ec', { namedCurve: 'P-256' });
      case 'p384':
        return generateKeyPairSync('ec', { namedCurve: 'P-384' });
      case 'p521':
        return generateKeyPairSync('ec', { namedCurve: 'P-521' });
      case 'secp256k1':
        return generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
      case 'rsa2048':
        return generateKeyPairSync('rsa', { modulusLength: 2048 });
      case 'rsa1024':
        return generateKeyPairSync('rsa', { modulusLength: 1024 });
      case 'ed25519':
        return generateKeyPairSync('ed25519');
    }
  })();
  return {
    kind,
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    spkiDer: new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' })),
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export const DEFAULT_SANS =
  'email:Alice@Example.com,URI:https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main,' +
  'DNS:build.example.com,IP:10.1.2.3,IP:2001:db8::1,otherName:1.3.6.1.4.1.57264.1.7;UTF8:alice-user';

/** A self-signed certificate for `key`, made by `openssl req -x509`, valid for `days` from now. */
export function selfSignedCertificate(
  key: TestKey,
  sans = DEFAULT_SANS,
  days = 1,
): { der: Uint8Array; pem: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sigil-cert-'));
  try {
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const digest = key.kind === 'ed25519' ? [] : ['-sha256'];
    const pem = execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-new',
        '-key',
        keyFile,
        '-subj',
        '/CN=sigil test',
        '-days',
        String(days),
        ...digest,
        '-addext',
        `subjectAltName=${sans}`,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    return { der: new Uint8Array(der), pem };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type Hash = 'sha256' | 'sha384' | 'sha512';

export function digestOf(message: Uint8Array | string, hash: Hash): Uint8Array {
  return new Uint8Array(createHash(hash).update(message).digest());
}

/**
 * A signature over `hash(message)` as a hashedrekord client makes it: ECDSA (DER) or RSA PKCS #1 v1.5
 * with node:crypto, Ed25519ph over SHA-512 with @noble/curves.
 */
export function signForDigest(key: TestKey, message: Uint8Array | string, hash: Hash): Uint8Array {
  const bytes = typeof message === 'string' ? Buffer.from(message) : message;
  if (key.kind === 'ed25519') {
    const seed = Buffer.from(key.privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
    return ed25519ph.sign(bytes, seed);
  }
  return new Uint8Array(sign(hash, bytes, key.privateKey));
}

/** A signature over the whole message, as a DSSE signer makes it. */
export function signMessage(key: TestKey, message: Uint8Array, hash: Hash = 'sha256'): Uint8Array {
  return new Uint8Array(sign(key.kind === 'ed25519' ? null : hash, message, key.privateKey));
}

export function b64(value: Uint8Array | string): string {
  return Buffer.from(value).toString('base64');
}

export function hex(value: Uint8Array): string {
  return Buffer.from(value).toString('hex');
}

/** Asserts `fn` throws a LogError with `code` whose message matches `fragment`. */
export function assertLogError(fn: () => unknown, code: LogErrorCode, fragment?: RegExp): LogError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof LogError, `expected a LogError, received ${String(thrown)}`);
  assert.equal(thrown.code, code, thrown.message);
  if (fragment) assert.match(thrown.message, fragment);
  return thrown;
}

/** A hashedrekord 0.0.1 proposal signed by `key`, its verifier given as `verifierPem`. */
export function hashedRekordProposal(
  key: TestKey,
  options: { hash?: Hash; message?: string; verifierPem?: string } = {},
): { apiVersion: string; kind: string; spec: Record<string, unknown> } {
  const hash = options.hash ?? 'sha256';
  const message = options.message ?? 'an artifact';
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: hash, value: hex(digestOf(message, hash)) } },
      signature: {
        content: b64(signForDigest(key, message, hash)),
        publicKey: { content: b64(options.verifierPem ?? key.publicPem) },
      },
    },
  };
}

/** DSSE PAE, written out independently of the code under test. */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = Buffer.from(payloadType);
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `),
    type,
    Buffer.from(` ${payload.length} `),
    payload,
  ]);
}

export const IN_TOTO = 'application/vnd.in-toto+json';

/** An in-toto statement about one artifact. */
export function statement(digestHex: string): Uint8Array {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'artifact.tgz', digest: { sha256: digestHex } }],
      predicateType: 'https://slsa.dev/provenance/v0.2',
      predicate: { materials: [{ uri: 'git+https://example.com/repo', digest: { sha1: 'ABCDEF0123' } }] },
    }),
  );
}

export function decodeLeaf(leaf: Uint8Array): unknown {
  return JSON.parse(Buffer.from(leaf).toString('utf8'));
}

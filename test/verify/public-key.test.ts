import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { VerificationError, type PublicKeyDetails } from '../../src/verify/index.ts';
import {
  importNamedPublicKey,
  importPublicKey,
  importPublicKeyPem,
  signatureHashOf,
} from '../../src/verify/public-key.ts';

function rejectsUnsupported(field: string, message?: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof VerificationError, `expected a VerificationError, got ${String(error)}`);
    assert.equal(error.code, 'VERIFY_KEY_UNSUPPORTED', error.message);
    assert.ok(error.message.startsWith(`${field}: `), error.message);
    if (message) assert.match(error.message, message);
    return true;
  };
}

function spki(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

// RSA keys are slow to make: one of each size, shared by the tests.
const keys = {
  p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
  p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey,
  p521: generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey,
  secp256k1: generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey,
  ed25519: generateKeyPairSync('ed25519').publicKey,
  ed448: generateKeyPairSync('ed448').publicKey,
  rsa2048: generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
  rsa3072: generateKeyPairSync('rsa', { modulusLength: 3072 }).publicKey,
  rsaPss2048: generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey,
  rsa1024: generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey,
};

describe('importPublicKey', () => {
  const matching: [keyof typeof keys, PublicKeyDetails][] = [
    ['p256', 'PKIX_ECDSA_P256_SHA_256'],
    ['p384', 'PKIX_ECDSA_P384_SHA_384'],
    ['p521', 'PKIX_ECDSA_P521_SHA_512'],
    ['ed25519', 'PKIX_ED25519'],
    ['ed25519', 'PKIX_ED25519_PH'],
    ['rsa2048', 'PKIX_RSA_PKCS1V15_2048_SHA256'],
    ['rsa3072', 'PKIX_RSA_PKCS1V15_3072_SHA256'],
    ['rsa2048', 'PKIX_RSA_PSS_2048_SHA256'],
    ['rsaPss2048', 'PKIX_RSA_PSS_2048_SHA256'],
  ];
  for (const [name, details] of matching) {
    it(`imports a ${name} key for ${details}`, () => {
      const key = importPublicKey(spki(keys[name]), details, 'key');
      assert.deepEqual(spki(key), spki(keys[name]));
    });
  }

  const mismatched: [keyof typeof keys, PublicKeyDetails, RegExp][] = [
    ['p384', 'PKIX_ECDSA_P256_SHA_256', /received ec secp384r1/],
    ['p256', 'PKIX_ED25519', /received ec prime256v1/],
    ['ed25519', 'PKIX_ECDSA_P256_SHA_256', /received ed25519/],
    ['rsa2048', 'PKIX_RSA_PKCS1V15_4096_SHA256', /received rsa 2048-bit/],
    ['rsaPss2048', 'PKIX_RSA_PKCS1V15_2048_SHA256', /received rsa-pss 2048-bit/],
  ];
  for (const [name, details, message] of mismatched) {
    it(`rejects a ${name} key given as ${details} with VERIFY_KEY_UNSUPPORTED`, () => {
      assert.throws(
        () => importPublicKey(spki(keys[name]), details, 'tlogs[0].publicKey'),
        rejectsUnsupported('tlogs[0].publicKey', message),
      );
    });
  }

  it('rejects bytes that are not a key, and a key with bytes after it', () => {
    assert.throws(
      () => importPublicKey(new Uint8Array([0x30, 0x00]), undefined, 'k'),
      rejectsUnsupported('k', /node:crypto can import/),
    );
    const trailing = new Uint8Array([...spki(keys.p256), 0]);
    assert.throws(
      () => importPublicKey(trailing, 'PKIX_ECDSA_P256_SHA_256', 'k'),
      rejectsUnsupported('k', /SubjectPublicKeyInfo/),
    );
    assert.throws(() => importPublicKey(new Uint8Array(0), undefined, 'k'), rejectsUnsupported('k'));
  });

  it('imports the same DER once', () => {
    const der = spki(keys.p256);
    assert.equal(
      importPublicKey(der, undefined, 'a'),
      importPublicKey(new Uint8Array(der), 'PKIX_ECDSA_P256_SHA_256', 'b'),
    );
  });

  it('still checks the details of a key it has cached', () => {
    const der = spki(keys.ed25519);
    importPublicKey(der, 'PKIX_ED25519', 'a');
    assert.throws(() => importPublicKey(der, 'PKIX_ECDSA_P256_SHA_256', 'b'), rejectsUnsupported('b'));
  });
});

describe('importNamedPublicKey', () => {
  it('maps the deprecated PKCS1_RSA_PKCS1V5 to the sized PKIX name and stores the SPKI', () => {
    const pkcs1 = new Uint8Array(keys.rsa2048.export({ type: 'pkcs1', format: 'der' }));
    const imported = importNamedPublicKey(pkcs1, 'PKCS1_RSA_PKCS1V5', 'ctlogs[0].publicKey');
    assert.equal(imported.details, 'PKIX_RSA_PKCS1V15_2048_SHA256');
    assert.deepEqual(imported.der, spki(keys.rsa2048));
  });

  it('maps the deprecated PKIX_RSA_PSS to the sized PSS name', () => {
    assert.equal(
      importNamedPublicKey(spki(keys.rsa3072), 'PKIX_RSA_PSS', 'k').details,
      'PKIX_RSA_PSS_3072_SHA256',
    );
  });

  for (const name of [
    'ML_DSA_65',
    'LMS_SHA256',
    'PKIX_ECDSA_P384_SHA_256',
    'PUBLIC_KEY_DETAILS_UNSPECIFIED',
    '__proto__',
  ]) {
    it(`rejects ${name} with VERIFY_KEY_UNSUPPORTED`, () => {
      assert.throws(
        () => importNamedPublicKey(spki(keys.p384), name, 'k'),
        rejectsUnsupported('k', /a supported keyDetails/),
      );
    });
  }

  it('rejects a deprecated RSA name on a key of another size', () => {
    const pkcs1 = new Uint8Array(keys.rsa1024.export({ type: 'pkcs1', format: 'der' }));
    assert.throws(
      () => importNamedPublicKey(pkcs1, 'PKCS1_RSA_PKCS1V5', 'k'),
      rejectsUnsupported('k', /rsa 1024-bit/),
    );
  });
});

describe('importPublicKeyPem', () => {
  const inferred: [keyof typeof keys, PublicKeyDetails][] = [
    ['p256', 'PKIX_ECDSA_P256_SHA_256'],
    ['p384', 'PKIX_ECDSA_P384_SHA_384'],
    ['p521', 'PKIX_ECDSA_P521_SHA_512'],
    ['ed25519', 'PKIX_ED25519'],
    ['rsa2048', 'PKIX_RSA_PKCS1V15_2048_SHA256'],
    ['rsaPss2048', 'PKIX_RSA_PSS_2048_SHA256'],
  ];
  for (const [name, details] of inferred) {
    it(`infers ${details} for a ${name} PEM key`, () => {
      const pem = keys[name].export({ type: 'spki', format: 'pem' }).toString();
      const imported = importPublicKeyPem(pem, 'key.pub');
      assert.equal(imported.details, details);
      assert.deepEqual(imported.der, spki(keys[name]));
    });
  }

  for (const name of ['secp256k1', 'ed448', 'rsa1024'] as const) {
    it(`rejects a ${name} key with VERIFY_KEY_UNSUPPORTED`, () => {
      const pem = keys[name].export({ type: 'spki', format: 'pem' }).toString();
      assert.throws(
        () => importPublicKeyPem(pem, 'key.pub'),
        rejectsUnsupported('key.pub', /expected an ECDSA/),
      );
    });
  }

  it('rejects text without a PEM block, two blocks, and another label', () => {
    const pem = keys.p256.export({ type: 'spki', format: 'pem' }).toString();
    assert.throws(
      () => importPublicKeyPem('not a key', 'key.pub'),
      rejectsUnsupported('key.pub', /a PEM public key/),
    );
    assert.throws(
      () => importPublicKeyPem(pem + pem, 'key.pub'),
      rejectsUnsupported('key.pub', /one PEM block/),
    );
    const rsa = keys.rsa2048.export({ type: 'pkcs1', format: 'pem' }).toString();
    assert.throws(
      () => importPublicKeyPem(rsa, 'key.pub'),
      rejectsUnsupported('key.pub', /received RSA PUBLIC KEY/),
    );
  });
});

describe('signatureHashOf', () => {
  it('names the hash each scheme signs over, and none for pure Ed25519', () => {
    assert.equal(signatureHashOf('PKIX_ECDSA_P256_SHA_256'), 'sha256');
    assert.equal(signatureHashOf('PKIX_ECDSA_P384_SHA_384'), 'sha384');
    assert.equal(signatureHashOf('PKIX_ECDSA_P521_SHA_512'), 'sha512');
    assert.equal(signatureHashOf('PKIX_RSA_PSS_4096_SHA256'), 'sha256');
    assert.equal(signatureHashOf('PKIX_ED25519_PH'), 'sha512');
    assert.equal(signatureHashOf('PKIX_ED25519'), null);
  });
});

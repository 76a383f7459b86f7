import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import {
  ecdsaPublicKeyFromPoint,
  ecdsaPublicKeyFromSpki,
  verifyEcdsaDigest,
  type EcdsaCurveName,
} from '../../src/core/ecdsa-digest.ts';
import { verifyDigestSignature } from '../../src/log/entries/index.ts';

// The reference is @noble/curves's own verify with { prehash: false, lowS: false }: it parses DER as
// strictly as Go's cryptobyte and truncates digests as Go's hashToNat (checked once against Go's
// ecdsa.VerifyASN1 on ~50,000 of these cases while this file was written). SCALE multiplies the counts
// for a longer run: SCALE=10 node --import tsx --test test/core/ecdsa-digest.test.ts
const SCALE = Number(process.env.SCALE ?? 1);

const NOBLE = { 'P-256': p256, 'P-384': p384, 'P-521': p521 } as const;
const SPKI_PREFIX: Record<EcdsaCurveName, string> = {
  'P-256': '3059301306072a8648ce3d020106082a8648ce3d030107034200',
  'P-384': '3076301006072a8648ce3d020106052b81040022036200',
  'P-521': '30819b301006072a8648ce3d020106052b8104002303818600',
};
type Hash = 'sha256' | 'sha384' | 'sha512';
const HASHES: Hash[] = ['sha256', 'sha384', 'sha512'];
/** Valid signatures per hash, and how many of them are mutated and compared with noble (slow). */
const COUNTS: Record<EcdsaCurveName, { valid: number; mutated: number }> = {
  'P-256': { valid: 1000, mutated: 25 },
  'P-384': { valid: 250, mutated: 10 },
  'P-521': { valid: 120, mutated: 5 },
};

interface Signer {
  readonly curve: EcdsaCurveName;
  readonly privateKey: KeyObject;
  readonly d: bigint;
  readonly spki: Uint8Array;
  readonly point: Uint8Array;
}

function newSigner(curve: EcdsaCurveName): Signer {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const d = bytesToNumberBE(Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'));
  return { curve, privateKey, d, spki, point: spki.subarray(SPKI_PREFIX[curve].length / 2) };
}

function spkiOf(curve: EcdsaCurveName, point: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(SPKI_PREFIX[curve], 'hex'), point]);
}

function nobleVerify(curve: EcdsaCurveName, point: Uint8Array, digest: Uint8Array, der: Uint8Array): boolean {
  try {
    return NOBLE[curve].verify(der, digest, point, { prehash: false, lowS: false, format: 'der' });
  } catch {
    return false;
  }
}

function fastVerify(spki: Uint8Array, digest: Uint8Array, der: Uint8Array): boolean {
  const key = ecdsaPublicKeyFromSpki(spki);
  assert.ok(key, 'the SPKI takes the fast parser');
  return verifyEcdsaDigest(key, digest, der);
}

const mod = (a: bigint, n: bigint): bigint => ((a % n) + n) % n;
const order = (curve: EcdsaCurveName): bigint => NOBLE[curve].Point.Fn.ORDER;
const inverse = (a: bigint, curve: EcdsaCurveName): bigint => NOBLE[curve].Point.Fn.inv(mod(a, order(curve)));
const randomScalar = (curve: EcdsaCurveName): bigint =>
  mod(bytesToNumberBE(randomBytes(NOBLE[curve].Point.Fn.BYTES + 8)), order(curve) - 1n) + 1n;

/** DER by hand, so out-of-range and malformed values can be encoded. */
function derInteger(value: bigint, { padded = true } = {}): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (padded && parseInt(hex[0]!, 16) >= 8) hex = `00${hex}`;
  return tlv(0x02, Buffer.from(hex, 'hex'));
}

function tlv(tag: number, body: Uint8Array): Buffer {
  const n = body.length;
  const length = n < 128 ? [n] : n < 256 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.of(tag, ...length), body]);
}

const der = (r: bigint, s: bigint): Buffer => tlv(0x30, Buffer.concat([derInteger(r), derInteger(s)]));

/** A valid signature's mutations, each labelled; some stay valid (high-S), most must not. */
function mutations(
  signer: Signer,
  other: Signer,
  digest: Uint8Array,
  signature: Uint8Array,
): [string, Uint8Array, Uint8Array, Uint8Array][] {
  const n = order(signer.curve);
  const { r, s } = NOBLE[signer.curve].Signature.fromBytes(signature, 'der');
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  const flippedDigest = digest.slice();
  // within the leftmost bitlen(n) bits: a longer digest's tail is truncated away and may change freely
  const significantBytes = Math.min(digest.length, Math.floor(NOBLE[signer.curve].Point.Fn.BITS / 8));
  flippedDigest[randomBytes(1)[0]! % significantBytes]! ^= 1 << (randomBytes(1)[0]! % 8);
  const flippedSignature = signature.slice();
  flippedSignature[randomBytes(1)[0]! % signature.length]! ^= 1 << (randomBytes(1)[0]! % 8);
  const cases: [string, Uint8Array][] = [
    ['r + 1', der(r + 1n, s)],
    ['r - 1', der(r - 1n, s)],
    ['s + 1', der(r, s + 1n)],
    ['s - 1', der(r, s - 1n)],
    ['n - s (high-S)', der(r, n - s)],
    ['r + n', der(r + n, s)],
    ['s + n', der(r, s + n)],
    ['r = 0', der(0n, s)],
    ['s = 0', der(r, 0n)],
    ['r = n', der(n, s)],
    ['s = n', der(r, n)],
    ['r and s swapped', der(s, r)],
    ['a flipped bit', flippedSignature],
    ['the last byte cut', signature.subarray(0, signature.length - 1)],
    ['a byte appended', Buffer.concat([signature, Buffer.of(0)])],
    ['trailing garbage', Buffer.concat([signature, Buffer.from('deadbeef', 'hex')])],
    ['a byte after s inside the SEQUENCE', tlv(0x30, Buffer.concat([body, Buffer.of(0)]))],
    [
      'r with a needless zero octet',
      tlv(
        0x30,
        Buffer.concat([tlv(2, Buffer.concat([Buffer.of(0), derInteger(r).subarray(2)])), derInteger(s)]),
      ),
    ],
    ['r without its sign octet', tlv(0x30, Buffer.concat([derInteger(r, { padded: false }), derInteger(s)]))],
    ['s without its sign octet', tlv(0x30, Buffer.concat([derInteger(r), derInteger(s, { padded: false })]))],
    ['a long-form length below 128', Buffer.concat([Buffer.of(0x30, 0x81, body.length), body])],
    [
      'a length with a leading zero octet',
      Buffer.concat([Buffer.of(0x30, 0x82, body.length >> 8, body.length & 0xff), body]),
    ],
    ['an indefinite length', Buffer.concat([Buffer.of(0x30, 0x80), body, Buffer.of(0, 0)])],
    ['a SET tag', Buffer.concat([Buffer.of(0x31), signature.subarray(1)])],
    ['an empty signature', new Uint8Array(0)],
    ['random bytes', randomBytes(signature.length)],
  ];
  return [
    ['the original', signer.spki, digest, signature],
    ['a flipped digest bit', signer.spki, flippedDigest, signature],
    ['another key', other.spki, digest, signature],
    ...cases.map(([label, mutated]): [string, Uint8Array, Uint8Array, Uint8Array] => [
      label,
      signer.spki,
      digest,
      mutated,
    ]),
  ];
}

function digestOf(hash: Hash, message: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(hash).update(message).digest());
}

// C2SP/wycheproof testvectors_v1/ecdsa_secp256r1_sha256_test.json (commit 061657f1), a selection: the
// pseudorandom signatures (tcId 1 signs the empty message, whose digest is the implementation's own
// shift, t = 0), the malleability and DER cases of the second key group, and the "edge case modular
// inverse" groups. Each signature is over SHA-256(msg). R and S split the second group's signature for
// readability; the vectors spell them out in full.
const R = '2ba3a8be6b94d5ec80a6d9d1190a436effe50d85a1eee859b8cc6af9bd5c2e18';
const S = 'b329f479a2bbd0a5c384ee1493b1f5186a87139cac5df4087c134b49156847db';
const KEY_1 =
  '0404aaec73635726f213fb8a9e64da3b8632e41495a944d0045b522eba7240fad587d9315798aaa3a5ba01775787ced05eaaf7b4e09fc81d6d1aa546e8365d525d';
const KEY_2 =
  '042927b10512bae3eddcfe467828128bad2903269919f7086069c8c4df6c732838c7787964eaac00e5921fb1498a60f4606766b3d9685001558d1a974e7341513e';
const MODULAR_INVERSE_R = '555555550000000055555555555555553ef7a8e48d07df81a693439654210c70';
const MSG = '313233343030';

interface WycheproofVector {
  readonly tcId: number;
  readonly comment: string;
  readonly key: string;
  readonly msg: string;
  readonly sig: string;
  readonly result: 'valid' | 'invalid';
}

const group2 = (tcId: number, comment: string, sig: string, result: 'valid' | 'invalid' = 'invalid') => ({
  tcId,
  comment,
  key: KEY_2,
  msg: MSG,
  sig,
  result,
});
const modularInverse = (tcId: number, key: string, s: string) => ({
  tcId,
  comment: 'edge case modular inverse',
  key,
  msg: MSG,
  sig: `30440220${MODULAR_INVERSE_R}0220${s}`,
  result: 'valid' as const,
});

const WYCHEPROOF_P256_SHA256: readonly WycheproofVector[] = [
  {
    tcId: 1,
    comment: 'pseudorandom signature',
    key: KEY_1,
    msg: '',
    sig: '3045022100b292a619339f6e567a305c951c0dcbcc42d16e47f219f9e98e76e09d8770b34a02200177e60492c5a8242f76f07bfe3661bde59ec2a17ce5bd2dab2abebdf89a62e2',
    result: 'valid',
  },
  {
    tcId: 2,
    comment: 'pseudorandom signature',
    key: KEY_1,
    msg: '4d7367',
    sig: '30450220530bd6b0c9af2d69ba897f6b5fb59695cfbf33afe66dbadcf5b8d2a2a6538e23022100d85e489cb7a161fd55ededcedbf4cc0c0987e3e3f0f242cae934c72caa3f43e9',
    result: 'valid',
  },
  {
    tcId: 3,
    comment: 'pseudorandom signature',
    key: KEY_1,
    msg: MSG,
    sig: '3046022100a8ea150cb80125d7381c4c1f1da8e9de2711f9917060406a73d7904519e51388022100f3ab9fa68bd47973a73b2d40480c2ba50c22c9d76ec217257288293285449b86',
    result: 'valid',
  },
  {
    tcId: 4,
    comment: 'pseudorandom signature',
    key: KEY_1,
    msg: '0000000000000000000000000000000000000000',
    sig: '3045022100986e65933ef2ed4ee5aada139f52b70539aaf63f00a91f29c69178490d57fb7102203dafedfb8da6189d372308cbf1489bbbdabf0c0217d1c0ff0f701aaa7a694b9c',
    result: 'valid',
  },
  group2(
    5,
    'signature malleability',
    '304402202ba3a8be6b94d5ec80a6d9d1190a436effe50d85a1eee859b8cc6af9bd5c2e1802204cd60b855d442f5b3c7b11eb6c4e0ae7525fe710fab9aa7c77a67f79e6fadd76',
    'valid',
  ),
  group2(6, 'Legacy: ASN encoding of s misses leading 0', `30440220${R}0220${S}`),
  group2(7, 'valid', `30450220${R}022100${S}`, 'valid'),
  group2(8, 'length of sequence [r, s] uses long form encoding', `3081450220${R}022100${S}`),
  group2(9, 'length of sequence [r, s] contains a leading 0', `308200450220${R}022100${S}`),
  group2(10, 'length of sequence [r, s] uses 70 instead of 69', `30460220${R}022100${S}`),
  group2(11, 'length of sequence [r, s] uses 68 instead of 69', `30440220${R}022100${S}`),
  group2(12, 'uint32 overflow in length of sequence [r, s]', `308501000000450220${R}022100${S}`),
  group2(16, 'length of sequence [r, s] = 2**32 - 1', `3084ffffffff0220${R}022100${S}`),
  group2(19, 'incorrect length of sequence [r, s]', `30ff0220${R}022100${S}`),
  group2(
    20,
    'replaced sequence [r, s] by an indefinite length tag without termination',
    `30800220${R}022100${S}`,
  ),
  group2(21, 'removing sequence [r, s]', ''),
  group2(22, 'lonely sequence tag', '30'),
  group2(23, "appending 0's to sequence [r, s]", `30470220${R}022100${S}0000`),
  group2(25, "appending unused 0's to sequence [r, s]", `30450220${R}022100${S}0000`),
  group2(26, 'appending null value to sequence [r, s]', `30470220${R}022100${S}0500`),
  group2(29, 'appending garbage to sequence [r, s]', `304730450220${R}022100${S}0004deadbeef`),
  group2(33, 'truncated length of sequence [r, s]', '3081'),
  group2(
    35,
    'using composition with indefinite length for sequence [r, s]',
    `308030450220${R}022100${S}0000`,
  ),
  group2(37, 'Replacing sequence [r, s] with NULL', '0500'),
  group2(38, 'changing tag value of sequence [r, s]', `2e450220${R}022100${S}`),
  group2(40, 'changing tag value of sequence [r, s]', `31450220${R}022100${S}`),
  group2(43, 'dropping value of sequence [r, s]', '3000'),
  group2(45, 'truncated sequence [r, s]', `30440220${R}022100${S.slice(0, -2)}`),
  group2(46, 'truncated sequence [r, s]', `304420${R}022100${S}`),
  modularInverse(
    381,
    '0424a0bc4d16dbbd40d2fd81a7c3f8d8ec741607d5bb406a0611cc60d0e683bd46b575cad039c15f7f3dffcfc007b4b0f743c871ecc76a504a32672fd84526d861',
    '13d22b06d6b8f5d97e0c64962b4a3bae30f668ca6217ef5b35d799f159e23ebe',
  ),
  modularInverse(
    382,
    '04d24dd06745cafb39186d22a92aa0e58169a79ab69488628a9da5ed3ef747269b7e9209d98faeb95355948adae61d5291c6015d3ee9513486d886fb05cbd25c6a',
    '4523ce342e4994bb8968bf6613f60c06c86111f15a3a389309e72cd447d5dd99',
  ),
  modularInverse(
    383,
    '048200f148e7eab1581bcd1e23946f8a9b8191d9641f9560341721f9d3fec3d63ece795669e0481e035de8623d716a6984d0a4809d6c65519443ee55260f7f3dcb',
    '37d765be3c9c78189ad30edb5097a4db670de11686d01420e37039d4677f4809',
  ),
  modularInverse(
    384,
    '04a8a69c5ed33b150ce8d37ac197070ed894c05d47258a80c9041d92486622024de85997c9666b60a393568efede8f4ca0167c1e10f626e62fc1b8c8e9c6ba6ed7',
    '44237823b54e0c74c2bf5f759d9ac5f8cb897d537ffa92effd4f0bb6c9acd860',
  ),
  modularInverse(
    385,
    '04ed0587e75b3b9a1dd0794f41d1729fcd432b2436cbf51c230d8bc7273273181735a57f09c7873d3964aa8102c9e25fa53070cd924cb7e3a459174740b8b71c34',
    '266d30a485385906054ca86d46f5f2b17e7f4646a3092092ad92877126538111',
  ),
  modularInverse(
    386,
    '04077091d99004a99ee08224e59a46a70495e6fba4eff681c3ce42127e588681ef4f1c16c77dfa440dde18245c9de76243d8f2fd9dea3f2782d6c04974d02f25dc',
    '538c7b3798e84d0ce90340165806348971ed44db8f0c674f5f215968390f92ee',
  ),
  modularInverse(
    387,
    '04616a8b8e57d82c11678f5827911024cd23a16cb52a65f230fb554a7b110c35a5bb466660be5cab3e4b587c12b45bd998bd56c7d66c2f94d03a1a6d2028d8a154',
    '6fef0ef15d1688e15e704c4e6bb8bb7f40d52d3af5c661bb78c4ed9b408699b3',
  ),
  modularInverse(
    388,
    '0471dc92b2b1baa7612c4a53427a0d2dfe548fa9cf829bb6b248f736a5eb30b513f91c7dff1144cb36057c2b859f35bd666a7961833b06de0f45159fbae208e326',
    '6f44275e9aeb1331efcb8d58f35c0252791427e403ad84daad51d247cc2a64c6',
  ),
  modularInverse(
    389,
    '04662f43ae614bd9c90ff3fcded25cf0ef186b6967a47aa6aa7ae7f396594df931f5f94a525edd50d3738f7a28d03d7a2a70095c8f89de9bb2c645fea8d8bac9e0',
    '21323755b103d2f9da6ab83eccab9ad8598bcf625652f10e7a3eeee3c3945fb3',
  ),
  modularInverse(
    390,
    '04dff107959bd2f7386497a5624430a0ab35e552c1a4e4dc9c298caeb96353170dcb5065d7947a676c76287ca8e430324f8a534b0ba6f21200e033c4b88852a3cc',
    '6c50acfe76de1289e7a5edb240f1c2a7879db6873d5d931f3c6ac467a6eac171',
  ),
  modularInverse(
    391,
    '04bd0862b0bfba85036922e06f5458754aafc3075b603a814b3ac75659bf24d7528258a607ffca2cfe05a300cb4c3c4e1963bbb1bc54d320e16969f85aad243385',
    '755b7fffb0b17ad57dca50fcefb7fe297b029df25e5ccb5069e8e70c2742c2a6',
  ),
];

describe('verifyEcdsaDigest', () => {
  for (const curve of ['P-256', 'P-384', 'P-521'] as const) {
    const other = newSigner(curve);
    for (const hash of HASHES) {
      describe(`on ${curve} over a ${hash} digest`, () => {
        const signer = newSigner(curve);
        const signed = (count: number) =>
          Array.from({ length: count }, () => {
            const message = randomBytes(1 + (randomBytes(1)[0]! % 64));
            const signature = new Uint8Array(
              sign(hash, message, { key: signer.privateKey, dsaEncoding: 'der' }),
            );
            return { digest: digestOf(hash, message), signature };
          });

        it(`accepts ${COUNTS[curve].valid * SCALE} signatures node:crypto made over the digested messages`, () => {
          for (const { digest, signature } of signed(COUNTS[curve].valid * SCALE)) {
            assert.equal(fastVerify(signer.spki, digest, signature), true);
          }
        });

        it('decides every mutation of a signature exactly as @noble/curves does', () => {
          const accepted = new Map<string, number>();
          for (const { digest, signature } of signed(COUNTS[curve].mutated * SCALE)) {
            for (const [label, spki, mutatedDigest, mutated] of mutations(signer, other, digest, signature)) {
              const point = spki === signer.spki ? signer.point : other.point;
              const expected = nobleVerify(curve, point, mutatedDigest, mutated);
              assert.equal(
                fastVerify(spki, mutatedDigest, mutated),
                expected,
                `${label}: ${Buffer.from(mutated).toString('hex')}`,
              );
              accepted.set(label, (accepted.get(label) ?? 0) + (expected ? 1 : 0));
            }
          }
          // The mutations that must keep or lose validity whatever the reference says.
          const count = COUNTS[curve].mutated * SCALE;
          assert.equal(accepted.get('the original'), count);
          assert.equal(
            accepted.get('n - s (high-S)'),
            count,
            "high-S is valid, as for Go's ecdsa.VerifyASN1",
          );
          for (const label of [
            'r + 1',
            's + 1',
            'r = 0',
            's = n',
            'a flipped digest bit',
            'another key',
            'a byte appended',
          ]) {
            assert.equal(accepted.get(label), 0, label);
          }
        });
      });
    }
  }

  describe('when the computation reaches a corner case', () => {
    for (const curve of ['P-256', 'P-384', 'P-521'] as const) {
      const signer = newSigner(curve);
      const n = order(curve);
      const G = NOBLE[curve].Point.BASE;
      // e' of the implementation: the SHA-256 of the empty message
      const shift = bytesToNumberBE(digestOf('sha256', new Uint8Array(0)));
      /** A valid signature with nonce k over the digest value e. */
      const signWith = (k: bigint, e: bigint) => {
        const r = mod(G.multiply(k).x, n);
        return { r, s: mod((e + r * signer.d) * inverse(k, curve), n) };
      };
      /** A digest of byteLength(n) bytes whose leftmost bitlen(n) bits are e, any e < 2^bitlen(n). */
      const { BYTES, BITS } = NOBLE[curve].Point.Fn;
      const digestFor = (e: bigint) => numberToBytesBE(e << BigInt(8 * BYTES - BITS), BYTES);
      const both = (spki: Uint8Array, point: Uint8Array, digest: Uint8Array, signature: Uint8Array) => {
        const fast = fastVerify(spki, digest, signature);
        assert.equal(fast, nobleVerify(curve, point, digest, signature));
        return fast;
      };

      it(`refuses a ${curve} signature whose R is the point at infinity`, () => {
        const e = bytesToNumberBE(randomBytes(32));
        const r = mod(-e * inverse(signer.d, curve), n); // u1·G + u2·Q = (e + r·d)/s · G = O
        assert.equal(both(signer.spki, signer.point, digestFor(e), der(r, randomScalar(curve))), false);
      });

      it(`accepts a ${curve} signature over the SHA-256 of nothing, where the key needs no shift (t = 0)`, () => {
        const signature = sign('sha256', new Uint8Array(0), { key: signer.privateKey, dsaEncoding: 'der' });
        assert.equal(both(signer.spki, signer.point, digestOf('sha256', new Uint8Array(0)), signature), true);
      });

      it(`accepts a ${curve} signature whose shifted key is the point at infinity (Q = −t·G)`, () => {
        // R = k·G, s = e'/k and e = e' − r·d make t = (e − e')/r = −d
        const k = randomScalar(curve);
        const r = mod(G.multiply(k).x, n);
        const e = mod(shift - r * signer.d, n);
        const s = mod(shift * inverse(k, curve), n);
        assert.equal(both(signer.spki, signer.point, digestFor(e), der(r, s)), true);
        const otherR = r === n - 1n ? 1n : r + 1n;
        assert.equal(both(signer.spki, signer.point, digestFor(e), der(otherR, s)), false);
      });

      it(`accepts a ${curve} signature whose shifted key is 2·Q (t = d: the addition doubles)`, () => {
        const k = randomScalar(curve);
        const { r, s } = signWith(k, mod(shift + mod(G.multiply(k).x, n) * signer.d, n));
        const e = mod(shift + r * signer.d, n);
        assert.equal(both(signer.spki, signer.point, digestFor(e), der(r, s)), true);
      });

      it(`accepts a ${curve} signature over an all-zero digest (u1 = 0)`, () => {
        const { r, s } = signWith(randomScalar(curve), 0n);
        assert.equal(both(signer.spki, signer.point, new Uint8Array(32), der(r, s)), true);
      });

      it(`reduces x(R) mod n: accepts r = x(R) − n on ${curve} and refuses r = x(R)`, () => {
        // A point R with n ≤ x(R) < p, then the key Q = (s·R − e·G)/r that makes (r, s) valid over e.
        const { Point } = NOBLE[curve];
        let R: InstanceType<typeof Point> | undefined;
        for (let x = n + BigInt(randomBytes(2).readUInt16BE()); R === undefined; x++) {
          try {
            R = Point.fromBytes(Uint8Array.of(0x02, ...numberToBytesBE(x, Point.Fp.BYTES)));
          } catch {
            // not on the curve
          }
        }
        const r = R.x - n;
        const s = randomScalar(curve);
        const e = randomScalar(curve);
        const Q = R.multiply(s).subtract(G.multiply(e)).multiply(inverse(r, curve));
        const point = Q.toBytes(false);
        const spki = spkiOf(curve, point);
        assert.equal(both(spki, point, digestFor(e), der(r, s)), true);
        if (R.x < 1n << BigInt(8 * Point.Fn.BYTES)) {
          assert.equal(
            both(
              spki,
              point,
              digestFor(e),
              Buffer.concat([tlv(0x30, Buffer.concat([derInteger(R.x), derInteger(s)]))]),
            ),
            false,
          );
        }
      });

      it(`truncates a ${curve} digest longer than the order to its leftmost bits`, () => {
        const long = randomBytes(100);
        const bits = NOBLE[curve].Point.Fn.BITS;
        const e = bytesToNumberBE(long) >> BigInt(long.length * 8 - bits);
        const { r, s } = signWith(randomScalar(curve), mod(e, n));
        assert.equal(both(signer.spki, signer.point, long, der(r, s)), true);
      });
    }
  });

  describe('with Wycheproof vectors', () => {
    for (const vector of WYCHEPROOF_P256_SHA256) {
      it(`decides tcId ${vector.tcId} (${vector.comment}) as ${vector.result}`, () => {
        const key = ecdsaPublicKeyFromPoint('P-256', Buffer.from(vector.key, 'hex'));
        assert.ok(key);
        const digest = digestOf('sha256', Buffer.from(vector.msg, 'hex'));
        assert.equal(
          verifyEcdsaDigest(key, digest, Buffer.from(vector.sig, 'hex')),
          vector.result === 'valid',
        );
      });
    }
  });

  it('prints its speed against @noble/curves on fresh keys', () => {
    for (const [curve, hash, count] of [
      ['P-256', 'sha256', 400],
      ['P-384', 'sha384', 80],
      ['P-521', 'sha512', 40],
    ] as const) {
      const jobs = Array.from({ length: count }, () => {
        const signer = newSigner(curve);
        const message = randomBytes(32);
        const signature = sign(hash, message, { key: signer.privateKey, dsaEncoding: 'der' });
        return { signer, digest: digestOf(hash, message), signature };
      });
      let start = performance.now();
      for (const { signer, digest, signature } of jobs) assert.ok(fastVerify(signer.spki, digest, signature));
      const fast = (count / (performance.now() - start)) * 1000;
      const nobleCount = Math.ceil(count / 10);
      start = performance.now();
      for (const { signer, digest, signature } of jobs.slice(0, nobleCount)) {
        assert.ok(nobleVerify(curve, signer.point, digest, signature));
      }
      const noble = (nobleCount / (performance.now() - start)) * 1000;
      console.log(
        `# ${curve}/${hash}: verifyEcdsaDigest ${fast.toFixed(0)}/s, @noble/curves ${noble.toFixed(0)}/s (×${(fast / noble).toFixed(1)})`,
      );
    }
  });
});

describe('ecdsaPublicKeyFromSpki', () => {
  const signer = newSigner('P-256');

  it('leaves a compressed point to node:crypto, and verifyDigestSignature still verifies through it', () => {
    const compressed = NOBLE['P-256'].Point.fromBytes(signer.point).toBytes(true);
    const spki = Buffer.concat([
      Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'),
      compressed,
    ]);
    assert.equal(ecdsaPublicKeyFromSpki(spki), undefined);
    const signature = sign('sha256', Buffer.from('the artifact'), {
      key: signer.privateKey,
      dsaEncoding: 'der',
    });
    const digest = digestOf('sha256', Buffer.from('the artifact'));
    assert.equal(verifyDigestSignature(spki, digest, signature, 'sha256'), true);
    assert.equal(
      verifyDigestSignature(spki, digest, Buffer.concat([signature, Buffer.of(0)]), 'sha256'),
      false,
    );
  });

  it('refuses a point off the curve, which verifyDigestSignature then refuses as node:crypto does', () => {
    const spki = signer.spki.slice();
    spki[spki.length - 1]! ^= 1;
    assert.equal(ecdsaPublicKeyFromSpki(spki), undefined);
    assert.throws(() => verifyDigestSignature(spki, new Uint8Array(32), new Uint8Array(8), 'sha256'));
  });

  it('returns the same key for the same bytes', () => {
    assert.equal(ecdsaPublicKeyFromSpki(signer.spki), ecdsaPublicKeyFromSpki(signer.spki.slice()));
  });
});

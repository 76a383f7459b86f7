import assert from 'node:assert/strict';
import {
  X509Certificate,
  createPrivateKey,
  createPublicKey,
  createSign,
  generateKeyPairSync,
  sign,
  type KeyObject,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, Name, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { SignJWT } from 'jose';
import type { CaErrorCode } from '../../src/ca/index.ts';
import type { CoreErrorCode } from '../../src/core/index.ts';
import {
  CT_SCT_LIST_OID,
  parseSignedCertificateTimestamp,
  readLeafIndexExtension,
} from '../../src/ctlog/index.ts';
import {
  signToken,
  standardClaims,
  startTestIssuer,
  testKey,
  type TestIssuer,
} from '../ca/oidc/oidc-test-issuer.ts';
import { postJson } from '../tools/rekor-entries.ts';
import { devToken, startSigil, type RunningSigil } from '../tools/sigil-process.ts';

/**
 * The keyless CA's "bad input and security" bar, over HTTP against the real `sigil up`: every hostile
 * token, key, proof and body is refused with a 4xx in Fulcio's error shape (google.rpc.Status with the
 * Sigil code in an ErrorInfo detail), no certificate is issued, and nothing reaches the CT log. Bad
 * tokens are forged here with jose, signed where the case needs it with the development issuer's own key
 * from `<state>/oidc/signing-key.pem`, so each one fails for exactly the reason its case names.
 */

/** grpc-gateway's status and gRPC code for each refusal class (google.golang.org/grpc/codes). */
const UNAUTHENTICATED = { status: 401, grpcCode: 16 } as const;
const INVALID_ARGUMENT = { status: 400, grpcCode: 3 } as const;

interface Refusal {
  answer: typeof UNAUTHENTICATED | typeof INVALID_ARGUMENT;
  reason: CaErrorCode | CoreErrorCode;
  message: RegExp;
}

interface FulcioErrorBody {
  code: number;
  message: string;
  details: { '@type': string; reason: string; domain: string }[];
}

const EMAIL = 'refusals@example.com';
const SUBJECT = 'refusals';

function pemOf(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** The signature sigstore clients send as proof of possession: over `value`, SHA-256 unless Ed25519. */
function proofOver(value: string, privateKey: KeyObject): string {
  return sign('sha256', Buffer.from(value), privateKey).toString('base64');
}

/** The v2 request shape sigstore-js and cosign send. */
function keyRequest(token: string, publicKey: KeyObject, proofOfPossession: string): Record<string, unknown> {
  return {
    credentials: { oidcIdentityToken: token },
    publicKeyRequest: { publicKey: { algorithm: 'ECDSA', content: pemOf(publicKey) }, proofOfPossession },
  };
}

/** A PEM PKCS#10 request for `publicKey`, signed by `privateKey` over the request info, or over other bytes. */
function certificateRequest(privateKey: KeyObject, publicKey: KeyObject, signOtherBytes = false): string {
  const info = new CertificationRequestInfo({
    subject: new Name(),
    subjectPKInfo: AsnConvert.parse(publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo),
  });
  const infoDer = Buffer.from(AsnConvert.serialize(info));
  // A well-formed ECDSA signature over the wrong bytes: it parses, and does not verify.
  const signed = signOtherBytes ? Buffer.concat([infoDer, Buffer.from('x')]) : infoDer;
  const request = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }), // ecdsa-with-SHA256
    signature: new Uint8Array(createSign('sha256').update(signed).sign(privateKey)).buffer,
  });
  const der = Buffer.from(AsnConvert.serialize(request)).toString('base64');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der}\n-----END CERTIFICATE REQUEST-----\n`;
}

/** The leaf_index (static-ct-api §SCT Extension) of the SCT embedded in a PEM leaf. */
function embeddedSctLeafIndex(leafPem: string): number | undefined {
  const leaf = AsnConvert.parse(new X509Certificate(leafPem).raw, Certificate);
  const extension = leaf.tbsCertificate.extensions?.find((item) => item.extnID === CT_SCT_LIST_OID);
  assert.ok(extension, 'expected an embedded SCT list in the leaf');
  // RFC 6962 §3.3: an OCTET STRING holding SignedCertificateTimestampList (u16 length, u16-prefixed SCTs).
  const list = Buffer.from(AsnConvert.parse(extension.extnValue.buffer, OctetString).buffer);
  assert.equal(list.readUInt16BE(0), list.length - 2);
  const sctLength = list.readUInt16BE(2);
  assert.equal(4 + sctLength, list.length, 'expected exactly one SCT');
  return readLeafIndexExtension(parseSignedCertificateTimestamp(list.subarray(4)).extensions);
}

describe('the keyless CA over HTTP (sigil up)', () => {
  let sigil: RunningSigil;
  /** The development issuer's signing key and its `kid` from the issuer's JWKS. */
  let issuerKey: KeyObject;
  let kid: string;
  /** A second, real OIDC issuer that the CA's config does not list. */
  let unlisted: TestIssuer;
  const requester = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  const signingCertUrl = () => `${sigil.summary.ca.url}/api/v2/signingCert`;
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  /** The claims the development issuer would sign for `EMAIL`, with `overrides` laid over them. */
  const claims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
    ...standardClaims(sigil.summary.ca.oidcIssuer, nowSeconds(), {
      sub: SUBJECT,
      email: EMAIL,
      email_verified: true,
    }),
    ...overrides,
  });

  /** A token signed with the development issuer's real key; `header` adds to or replaces the header. */
  const forge = (payload: Record<string, unknown>, header: Record<string, unknown> = {}) =>
    new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT', ...header }).sign(issuerKey);

  /** A request that would get a certificate, but for `token`. */
  const withToken = (token: string) =>
    keyRequest(token, requester.publicKey, proofOver(EMAIL, requester.privateKey));

  async function ctTreeSize(): Promise<number> {
    const response = await fetch(`${sigil.summary.ca.ctLog.url}/checkpoint`);
    assert.equal(response.status, 200);
    // C2SP signed note: origin, tree size, root hash, blank line, signatures.
    const size = (await response.text()).split('\n')[1] ?? '';
    assert.match(size, /^\d+$/);
    return Number(size);
  }

  async function waitForTreeSize(size: number): Promise<number> {
    const deadline = Date.now() + 10_000;
    let current = await ctTreeSize();
    while (current < size && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      current = await ctTreeSize();
    }
    return current;
  }

  /** Asserts Fulcio's error shape with `expected`, and that no certificate came with it. */
  async function assertRefused(response: Response, expected: Refusal, token?: string): Promise<void> {
    const text = await response.text();
    assert.equal(response.status, expected.answer.status, text);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const body = JSON.parse(text) as FulcioErrorBody;
    assert.deepEqual(Object.keys(body).sort(), ['code', 'details', 'message']);
    assert.equal(body.code, expected.answer.grpcCode);
    assert.deepEqual(body.details, [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: expected.reason, domain: 'sigil' },
    ]);
    assert.match(body.message, expected.message);
    assert.doesNotMatch(text, /BEGIN CERTIFICATE|signedCertificate/);
    if (token !== undefined) assert.ok(!text.includes(token.split('.')[1]!), 'the answer echoes the token');
  }

  before(async () => {
    sigil = await startSigil();
    issuerKey = createPrivateKey(await readFile(join(sigil.summary.stateDir, 'oidc', 'signing-key.pem')));
    const jwks = (await (await fetch(`${sigil.summary.ca.oidcIssuer}/jwks`)).json()) as {
      keys: { kid: string }[];
    };
    assert.equal(jwks.keys.length, 1);
    kid = jwks.keys[0]!.kid;
    unlisted = await startTestIssuer([testKey('ES256', 'unlisted-key')]);
  });

  after(async () => {
    await sigil?.cleanup();
    await unlisted?.close();
  });

  describe('requests it refuses, without issuing or logging anything', () => {
    let treeSizeBefore: number;

    before(async () => {
      treeSizeBefore = await ctTreeSize();
      // The forged tokens below differ from a good one only in what each case names: check that a good
      // one, forged the same way, would pass the token checks (it fails later, on its proof, by design).
      const response = await postJson(
        signingCertUrl(),
        keyRequest(
          await forge(claims()),
          requester.publicKey,
          proofOver('not the email', requester.privateKey),
        ),
      );
      await assertRefused(response, {
        answer: INVALID_ARGUMENT,
        reason: 'CA_PROOF_OF_POSSESSION_INVALID',
        message: /proofOfPossession/,
      });
    });

    describe('when the identity token is not one the CA may accept', () => {
      const tokenCases: [string, () => Promise<string>, Refusal][] = [
        [
          'has expired (exp an hour ago, beyond the 60 s skew)',
          () =>
            forge(claims({ iat: nowSeconds() - 7200, nbf: nowSeconds() - 7200, exp: nowSeconds() - 3600 })),
          {
            answer: UNAUTHENTICATED,
            reason: 'CA_TOKEN_EXPIRED',
            message: /^exp: expected a time after .+, received /,
          },
        ],
        [
          'is not valid yet (nbf an hour ahead, beyond the skew)',
          () => forge(claims({ nbf: nowSeconds() + 3600, exp: nowSeconds() + 7200 })),
          {
            answer: UNAUTHENTICATED,
            reason: 'CA_TOKEN_NOT_YET_VALID',
            message: /^nbf: expected a time before .+, received /,
          },
        ],
        [
          'is for another audience',
          () => forge(claims({ aud: 'another-client' })),
          {
            answer: UNAUTHENTICATED,
            reason: 'CA_TOKEN_AUDIENCE',
            message: /^aud: expected "sigstore", received "another-client"$/,
          },
        ],
        [
          'is from an issuer the config does not list (a real second issuer)',
          () =>
            signToken(
              unlisted.keys[0]!,
              standardClaims(unlisted.url, nowSeconds(), { email: EMAIL, email_verified: true }),
            ),
          {
            answer: UNAUTHENTICATED,
            reason: 'CA_ISSUER_UNKNOWN',
            message: /^iss: expected an issuer this CA trusts, received "http:\/\/127\.0\.0\.1:\d+"$/,
          },
        ],
        [
          'is unsigned (alg none)',
          async () => {
            const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
            return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims())}.`;
          },
          {
            answer: UNAUTHENTICATED,
            reason: 'CA_TOKEN_ALGORITHM',
            message: /^alg: expected one of .*received "none"$/,
          },
        ],
        [
          "is HS256, keyed with the issuer's public key (algorithm confusion)",
          () =>
            new SignJWT(claims())
              .setProtectedHeader({ alg: 'HS256', kid, typ: 'JWT' })
              .sign(Buffer.from(pemOf(createPublicKey(issuerKey)))),
          {
            answer: UNAUTHENTICATED,
            reason: 'CA_TOKEN_ALGORITHM',
            message: /^alg: expected one of .*received "HS256"$/,
          },
        ],
        [
          "names a kid the issuer's JWKS lacks",
          () => forge(claims(), { kid: 'not-a-key-of-this-issuer' }),
          {
            answer: UNAUTHENTICATED,
            reason: 'CA_TOKEN_INVALID',
            message:
              /^kid: expected a ES256 key of .+, received "not-a-key-of-this-issuer", which its JWKS lacks$/,
          },
        ],
        [
          'has a signature with one bit flipped',
          async () => {
            const [header, payload, signature] = (await forge(claims())).split('.');
            const bytes = Buffer.from(signature!, 'base64url');
            bytes[10]! ^= 0x01;
            return `${header}.${payload}.${bytes.toString('base64url')}`;
          },
          {
            answer: UNAUTHENTICATED,
            reason: 'CA_TOKEN_INVALID',
            message: /^signature: expected a valid ES256 signature by http:\/\/127\.0\.0\.1:\d+\/oidc$/,
          },
        ],
        [
          "has its payload swapped for another email under the issuer's signature",
          async () => {
            const [header, , signature] = (await forge(claims())).split('.');
            const payload = Buffer.from(JSON.stringify(claims({ email: 'admin@example.com' }))).toString(
              'base64url',
            );
            return `${header}.${payload}.${signature}`;
          },
          {
            answer: UNAUTHENTICATED,
            reason: 'CA_TOKEN_INVALID',
            message: /^signature: expected a valid ES256/,
          },
        ],
        [
          'names the development issuer and its kid but is signed by another key',
          () => signToken({ ...unlisted.keys[0]!, kid }, claims()),
          {
            answer: UNAUTHENTICATED,
            reason: 'CA_TOKEN_INVALID',
            message: /^signature: expected a valid ES256/,
          },
        ],
        [
          'lacks email_verified (the issuer is an email issuer)',
          () => forge(claims({ email_verified: undefined })),
          {
            answer: UNAUTHENTICATED,
            reason: 'CA_EMAIL_UNVERIFIED',
            message: /^email_verified: expected true, received nothing$/,
          },
        ],
        [
          'has email_verified false',
          () => forge(claims({ email_verified: false })),
          {
            answer: UNAUTHENTICATED,
            reason: 'CA_EMAIL_UNVERIFIED',
            message: /^email_verified: expected true, received a boolean$/,
          },
        ],
        [
          'has email_verified as the string "true"',
          () => forge(claims({ email_verified: 'true' })),
          {
            answer: UNAUTHENTICATED,
            reason: 'CA_EMAIL_UNVERIFIED',
            message: /^email_verified: expected true, received "true"$/,
          },
        ],
      ];

      for (const [name, makeToken, refusal] of tokenCases) {
        it(`refuses a token that ${name} with ${refusal.reason}`, async () => {
          const token = await makeToken();
          await assertRefused(await postJson(signingCertUrl(), withToken(token)), refusal, token);
        });
      }

      it('never asks the unlisted issuer for its keys', () => {
        assert.deepEqual(unlisted.requests, { discovery: 0, jwks: 0 });
      });
    });

    describe('when the key or its proof of possession does not hold', () => {
      const keyCases: [string, () => Promise<Record<string, unknown>>, Refusal][] = [
        [
          "a proof over another email than the token's",
          async () =>
            keyRequest(
              await devToken(sigil, SUBJECT, EMAIL),
              requester.publicKey,
              proofOver('someone-else@example.com', requester.privateKey),
            ),
          {
            answer: INVALID_ARGUMENT,
            reason: 'CA_PROOF_OF_POSSESSION_INVALID',
            message:
              /^publicKeyRequest\.proofOfPossession: the signature does not verify .*\("refusals@example\.com"\)$/,
          },
        ],
        [
          "a proof over the token's sub where the email issuer expects the email",
          async () =>
            keyRequest(
              await devToken(sigil, SUBJECT, EMAIL),
              requester.publicKey,
              proofOver(SUBJECT, requester.privateKey),
            ),
          {
            answer: INVALID_ARGUMENT,
            reason: 'CA_PROOF_OF_POSSESSION_INVALID',
            message: /^publicKeyRequest\.proofOfPossession: the signature does not verify/,
          },
        ],
        [
          'a proof by another key than the submitted one',
          async () =>
            keyRequest(
              await devToken(sigil, SUBJECT, EMAIL),
              requester.publicKey,
              proofOver(EMAIL, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
            ),
          {
            answer: INVALID_ARGUMENT,
            reason: 'CA_PROOF_OF_POSSESSION_INVALID',
            message: /^publicKeyRequest\.proofOfPossession: the signature does not verify/,
          },
        ],
        [
          'a 1024-bit RSA key, with a valid proof',
          async () => {
            const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
            return keyRequest(
              await devToken(sigil, SUBJECT, EMAIL),
              weak.publicKey,
              proofOver(EMAIL, weak.privateKey),
            );
          },
          {
            answer: INVALID_ARGUMENT,
            reason: 'CA_PUBLIC_KEY_UNSUPPORTED',
            message:
              /^publicKeyRequest\.publicKey\.content: expected an RSA key of 2048 to 4096 bits, received 1024 bits$/,
          },
        ],
        [
          'an RSA key with public exponent 3, with a valid proof',
          async () => {
            const weak = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
            return keyRequest(
              await devToken(sigil, SUBJECT, EMAIL),
              weak.publicKey,
              proofOver(EMAIL, weak.privateKey),
            );
          },
          {
            answer: INVALID_ARGUMENT,
            reason: 'CA_PUBLIC_KEY_UNSUPPORTED',
            message: /^publicKeyRequest\.publicKey\.content: expected RSA public exponent 65537, received 3$/,
          },
        ],
        [
          'an ECDSA key on secp256k1, with a valid proof',
          async () => {
            const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
            return keyRequest(
              await devToken(sigil, SUBJECT, EMAIL),
              k1.publicKey,
              proofOver(EMAIL, k1.privateKey),
            );
          },
          {
            answer: INVALID_ARGUMENT,
            reason: 'CA_PUBLIC_KEY_UNSUPPORTED',
            message:
              /^publicKeyRequest\.publicKey\.content: expected an ECDSA key on P-256, P-384 or P-521, received curve secp256k1$/,
          },
        ],
        [
          'a CSR whose signature does not verify with its key',
          async () => ({
            credentials: { oidcIdentityToken: await devToken(sigil, SUBJECT, EMAIL) },
            certificateSigningRequest: Buffer.from(
              certificateRequest(requester.privateKey, requester.publicKey, true),
            ).toString('base64'),
          }),
          {
            answer: INVALID_ARGUMENT,
            reason: 'CA_CSR_INVALID',
            message: /^certificateSigningRequest: the request's signature does not verify with its key$/,
          },
        ],
      ];

      for (const [name, makeRequest, refusal] of keyCases) {
        it(`refuses ${name} with ${refusal.reason}`, async () => {
          await assertRefused(await postJson(signingCertUrl(), await makeRequest()), refusal);
        });
      }
    });

    describe('when the body is not a well-formed request', () => {
      it('refuses malformed JSON with CORE_JSON_INVALID', async () => {
        await assertRefused(await postJson(signingCertUrl(), '{"credentials": {"oidcIdentityToken": '), {
          answer: INVALID_ARGUMENT,
          reason: 'CORE_JSON_INVALID',
          message: /^request body: expected JSON, /,
        });
      });

      const typeCases: [string, (token: string) => unknown, RegExp][] = [
        ['the body is an array', () => [], /^request body: expected an object, received an array$/],
        [
          'credentials is a string',
          (token) => ({ ...withToken(token), credentials: token }),
          /^credentials: expected an object, received string$/,
        ],
        [
          'credentials.oidcIdentityToken is a number',
          (token) => ({ ...withToken(token), credentials: { oidcIdentityToken: 42 } }),
          /^credentials\.oidcIdentityToken: expected a non-empty string, received number$/,
        ],
        [
          'publicKeyRequest is a string',
          (token) => ({ ...withToken(token), publicKeyRequest: pemOf(requester.publicKey) }),
          /^publicKeyRequest: expected an object, received string$/,
        ],
        [
          'publicKeyRequest.publicKey is an array',
          (token) => ({
            ...withToken(token),
            publicKeyRequest: { publicKey: [], proofOfPossession: 'AA==' },
          }),
          /^publicKeyRequest\.publicKey: expected an object, received an array$/,
        ],
        [
          'publicKeyRequest.publicKey.content is a number',
          (token) => ({
            ...withToken(token),
            publicKeyRequest: { publicKey: { algorithm: 'ECDSA', content: 42 }, proofOfPossession: 'AA==' },
          }),
          /^publicKeyRequest\.publicKey\.content: expected a non-empty string, received number$/,
        ],
        [
          'publicKeyRequest.proofOfPossession is a boolean',
          (token) => ({
            ...withToken(token),
            publicKeyRequest: {
              publicKey: { algorithm: 'ECDSA', content: pemOf(requester.publicKey) },
              proofOfPossession: true,
            },
          }),
          /^publicKeyRequest\.proofOfPossession: expected a non-empty string, received boolean$/,
        ],
        [
          'certificateSigningRequest is an object',
          (token) => ({ credentials: { oidcIdentityToken: token }, certificateSigningRequest: {} }),
          /^certificateSigningRequest: expected a non-empty string, received object$/,
        ],
        [
          'neither publicKeyRequest nor certificateSigningRequest is present',
          (token) => ({ credentials: { oidcIdentityToken: token } }),
          /^publicKeyRequest: expected a public key request or a certificateSigningRequest$/,
        ],
      ];

      for (const [name, makeBody, message] of typeCases) {
        it(`refuses a body where ${name} with CA_REQUEST_INVALID`, async () => {
          const body = makeBody(await devToken(sigil, SUBJECT, EMAIL));
          await assertRefused(await postJson(signingCertUrl(), body), {
            answer: INVALID_ARGUMENT,
            reason: 'CA_REQUEST_INVALID',
            message,
          });
        });
      }

      it('refuses a request with no token in the body nor an Authorization header with CA_TOKEN_INVALID', async () => {
        const { publicKeyRequest } = withToken('unused');
        await assertRefused(await postJson(signingCertUrl(), { publicKeyRequest }), {
          answer: UNAUTHENTICATED,
          reason: 'CA_TOKEN_INVALID',
          message:
            /^credentials\.oidcIdentityToken: expected an OIDC identity token \(or an Authorization: Bearer header\)$/,
        });
      });

      it('refuses a request with both a publicKeyRequest and a CSR with CA_REQUEST_INVALID', async () => {
        const body = {
          ...withToken(await devToken(sigil, SUBJECT, EMAIL)),
          certificateSigningRequest: Buffer.from(
            certificateRequest(requester.privateKey, requester.publicKey),
          ).toString('base64'),
        };
        await assertRefused(await postJson(signingCertUrl(), body), {
          answer: INVALID_ARGUMENT,
          reason: 'CA_REQUEST_INVALID',
          message: /^publicKeyRequest, certificateSigningRequest: expected exactly one, received both$/,
        });
      });
    });

    it('appends nothing to the CT log for any of them: the next certificate is logged at the index the log had before', async () => {
      assert.equal(await ctTreeSize(), treeSizeBefore);
      // The checkpoint may lag the sequencer; the next SCT's leaf_index cannot: an entry appended by any
      // refusal would have pushed it past treeSizeBefore.
      const response = await postJson(
        signingCertUrl(),
        keyRequest(
          await devToken(sigil, SUBJECT, EMAIL),
          requester.publicKey,
          proofOver(EMAIL, requester.privateKey),
        ),
      );
      assert.equal(response.status, 200);
      const { signedCertificateEmbeddedSct } = (await response.json()) as {
        signedCertificateEmbeddedSct: { chain: { certificates: string[] } };
      };
      assert.equal(embeddedSctLeafIndex(signedCertificateEmbeddedSct.chain.certificates[0]!), treeSizeBefore);
      assert.equal(await waitForTreeSize(treeSizeBefore + 1), treeSizeBefore + 1);
    });
  });

  describe('requests it serves', () => {
    it('issues a certificate for a valid v2 request, and the CT tree grows by exactly one', async () => {
      const before = await ctTreeSize();
      const response = await postJson(
        signingCertUrl(),
        keyRequest(
          await devToken(sigil, SUBJECT, EMAIL),
          requester.publicKey,
          proofOver(EMAIL, requester.privateKey),
        ),
      );
      assert.equal(response.status, 200);
      const body = (await response.json()) as {
        signedCertificateEmbeddedSct: { chain: { certificates: string[] } };
      };
      const [leafPem, ...caPems] = body.signedCertificateEmbeddedSct.chain.certificates;
      const leaf = new X509Certificate(leafPem!);
      assert.equal(leaf.subjectAltName, `email:${EMAIL}`);
      assert.ok(leaf.publicKey.equals(requester.publicKey));
      assert.equal(caPems.length, 2);
      assert.ok(leaf.verify(new X509Certificate(caPems[0]!).publicKey));
      assert.equal(embeddedSctLeafIndex(leafPem!), before);
      assert.equal(await waitForTreeSize(before + 1), before + 1);
    });

    it('issues a certificate for a correctly signed CSR (the control of the bad-signature CSR)', async () => {
      const response = await postJson(signingCertUrl(), {
        credentials: { oidcIdentityToken: await devToken(sigil, SUBJECT, EMAIL) },
        certificateSigningRequest: Buffer.from(
          certificateRequest(requester.privateKey, requester.publicKey),
        ).toString('base64'),
      });
      assert.equal(response.status, 200);
      const body = (await response.json()) as {
        signedCertificateEmbeddedSct: { chain: { certificates: string[] } };
      };
      const leaf = new X509Certificate(body.signedCertificateEmbeddedSct.chain.certificates[0]!);
      assert.ok(leaf.publicKey.equals(requester.publicKey));
    });

    it('issues a PEM chain with 201 on the legacy v1 endpoint (Bearer token, base64 PEM key, signedEmailAddress)', async () => {
      const before = await ctTreeSize();
      const response = await fetch(`${sigil.summary.ca.url}/api/v1/signingCert`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await devToken(sigil, SUBJECT, EMAIL)}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          publicKey: {
            algorithm: 'ecdsa',
            content: Buffer.from(pemOf(requester.publicKey)).toString('base64'),
          },
          signedEmailAddress: proofOver(EMAIL, requester.privateKey),
        }),
      });
      assert.equal(response.status, 201);
      assert.match(response.headers.get('content-type') ?? '', /^application\/pem-certificate-chain/);
      const pems = (await response.text()).match(
        /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g,
      );
      assert.equal(pems?.length, 3);
      const leaf = new X509Certificate(pems[0]);
      assert.equal(leaf.subjectAltName, `email:${EMAIL}`);
      assert.ok(leaf.publicKey.equals(requester.publicKey));
      assert.equal(embeddedSctLeafIndex(pems[0]), before);
      assert.equal(await waitForTreeSize(before + 1), before + 1);
    });

    it('refuses a v1 request without a Bearer token in the same error shape', async () => {
      const response = await postJson(`${sigil.summary.ca.url}/api/v1/signingCert`, {
        publicKey: {
          algorithm: 'ecdsa',
          content: Buffer.from(pemOf(requester.publicKey)).toString('base64'),
        },
        signedEmailAddress: proofOver(EMAIL, requester.privateKey),
      });
      await assertRefused(response, {
        answer: UNAUTHENTICATED,
        reason: 'CA_TOKEN_INVALID',
        message: /^Authorization: expected an OIDC identity token/,
      });
    });

    it('answers the trust bundle with the CA chain of the trusted root sigil up wrote', async () => {
      const response = await fetch(`${sigil.summary.ca.url}/api/v2/trustBundle`);
      assert.equal(response.status, 200);
      const bundle = (await response.json()) as { chains: { certificates: string[] }[] };
      assert.equal(bundle.chains.length, 1);
      const trustedRoot = JSON.parse(await readFile(sigil.summary.ca.trustedRootFile, 'utf8')) as {
        certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[];
      };
      assert.deepEqual(
        bundle.chains[0]!.certificates.map((pem) => new X509Certificate(pem).raw.toString('base64')),
        trustedRoot.certificateAuthorities[0]!.certChain.certificates.map(
          (certificate) => certificate.rawBytes,
        ),
      );
    });

    it('answers the configuration with the one trusted issuer: the development issuer, as an email issuer', async () => {
      const response = await fetch(`${sigil.summary.ca.url}/api/v2/configuration`);
      assert.equal(response.status, 200);
      const configuration = (await response.json()) as { issuers: Record<string, unknown>[] };
      assert.equal(configuration.issuers.length, 1);
      assert.equal(configuration.issuers[0]!['issuerUrl'], sigil.summary.ca.oidcIssuer);
      assert.equal(configuration.issuers[0]!['audience'], 'sigstore');
      assert.equal(configuration.issuers[0]!['challengeClaim'], 'email');
      assert.equal(configuration.issuers[0]!['issuerType'], 'email');
    });
  });
});

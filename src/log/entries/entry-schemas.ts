import {
  MAX_DIGEST_LENGTH,
  MAX_HEX_DIGEST_LENGTH,
  MAX_KEYID_LENGTH,
  MAX_PAYLOAD_TYPE_LENGTH,
  MAX_SIGNATURES,
  MAX_SIGNATURE_LENGTH,
  MAX_VERIFIERS,
  MAX_VERIFIER_LENGTH,
} from './entry-limits.ts';

/**
 * JSON schemas of what the log reads: Rekor v1 proposals (sigstore/rekor `pkg/types/<kind>/<version>/
 * *_schema.json`), Rekor v2 requests (sigstore/rekor-tiles `api/proto/rekor/v2/*.proto` in protojson),
 * and the stored leaves of every kind.
 *
 * Rekor v1 ignores fields it does not know (go-swagger models), so v1 proposals are open; Rekor v2's
 * HTTP gateway rejects them (`DiscardUnknown: false`), so v2 requests are closed; leaves are closed so
 * that a leaf that parses canonicalizes back to itself. Envelope sizes are checked before the schema.
 */

const BASE64 = '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$';
/** Either base64 alphabet, padding optional; decodeProtoBytes applies protojson's exact rules. */
const PROTO_BYTES = '^[A-Za-z0-9+/_-]*={0,2}$';

const base64 = (maxLength: number, expected: string) => ({
  type: 'string',
  minLength: 1,
  maxLength,
  pattern: BASE64,
  'x-expected': expected,
});

const protoBytes = (maxLength: number | undefined, expected: string, minLength = 1) => ({
  type: 'string',
  minLength,
  ...(maxLength === undefined ? {} : { maxLength }),
  pattern: PROTO_BYTES,
  'x-expected': expected,
});

const hexDigest = {
  type: 'string',
  minLength: 1,
  maxLength: MAX_HEX_DIGEST_LENGTH,
  pattern: '^[0-9a-fA-F]+$',
  'x-expected': 'hex',
};
const sha256Hex = { type: 'string', pattern: '^[0-9a-f]{64}$', 'x-expected': '64 lower-case hex characters' };
const sha256Reference = (closed: boolean) =>
  object(closed, { algorithm: { const: 'sha256' }, value: sha256Hex }, ['algorithm', 'value']);

function object(
  closed: boolean,
  properties: Record<string, unknown>,
  required: string[] = Object.keys(properties),
) {
  return { type: 'object', properties, required, ...(closed ? { additionalProperties: false } : {}) };
}

const KEY_CONTENT = 'base64 of a PEM certificate or public key';

/** hashedrekord 0.0.1: the proposal and the leaf have one shape. */
export const hashedRekordV001Schema = (closed: boolean) =>
  object(closed, {
    apiVersion: { const: '0.0.1' },
    kind: { const: 'hashedrekord' },
    spec: object(closed, {
      data: object(closed, {
        hash: object(closed, { algorithm: { enum: ['sha256', 'sha384', 'sha512'] }, value: hexDigest }),
      }),
      signature: object(closed, {
        content: base64(MAX_SIGNATURE_LENGTH, 'base64 of a signature'),
        publicKey: object(closed, { content: base64(MAX_VERIFIER_LENGTH, KEY_CONTENT) }),
      }),
    }),
  });

/** dsse 0.0.1 proposal: only proposedContent; the fields the log computes must be absent. */
export const dsseV001ProposalSchema = object(false, {
  apiVersion: { const: '0.0.1' },
  kind: { const: 'dsse' },
  spec: {
    type: 'object',
    required: ['proposedContent'],
    properties: {
      proposedContent: object(false, {
        envelope: { type: 'string', minLength: 1, 'x-expected': 'a DSSE envelope as a JSON string' },
        verifiers: {
          type: 'array',
          minItems: 1,
          maxItems: MAX_VERIFIERS,
          items: base64(MAX_VERIFIER_LENGTH, KEY_CONTENT),
        },
      }),
      envelopeHash: false,
      payloadHash: false,
      signatures: false,
    },
  },
});

/** The DSSE envelope inside a dsse 0.0.1 proposal (go-securesystemslib `dsse.Envelope`). */
export const dsseEnvelopeSchema = object(false, {
  payload: { type: 'string', pattern: '^[A-Za-z0-9+/_-]*={0,2}$', 'x-expected': 'base64' },
  payloadType: { type: 'string', maxLength: MAX_PAYLOAD_TYPE_LENGTH },
  signatures: {
    type: 'array',
    minItems: 1,
    maxItems: MAX_SIGNATURES,
    items: object(
      false,
      {
        keyid: { type: 'string', maxLength: MAX_KEYID_LENGTH },
        sig: base64(MAX_SIGNATURE_LENGTH, 'base64 of a signature'),
      },
      ['sig'],
    ),
  },
});

export const dsseV001LeafSchema = object(true, {
  apiVersion: { const: '0.0.1' },
  kind: { const: 'dsse' },
  spec: object(true, {
    envelopeHash: sha256Reference(true),
    payloadHash: sha256Reference(true),
    signatures: {
      type: 'array',
      minItems: 1,
      items: object(true, {
        signature: base64(MAX_SIGNATURE_LENGTH, 'base64 of a signature'),
        verifier: base64(MAX_VERIFIER_LENGTH, KEY_CONTENT),
      }),
    },
  }),
});

/** intoto 0.0.2: proposals carry the payload and may carry payloadHash (recomputed); leaves may not. */
export const intotoV002Schema = (leaf: boolean) => {
  const signature = object(
    leaf,
    {
      keyid: { type: 'string', maxLength: MAX_KEYID_LENGTH },
      sig: base64(2 * MAX_SIGNATURE_LENGTH, 'base64 of a base64 signature'),
      publicKey: base64(MAX_VERIFIER_LENGTH, KEY_CONTENT),
    },
    ['sig', 'publicKey'],
  );
  const envelope = object(
    leaf,
    {
      payload: { type: 'string', minLength: 1, pattern: BASE64, 'x-expected': 'base64 of a base64 payload' },
      payloadType: { type: 'string', minLength: 1, maxLength: MAX_PAYLOAD_TYPE_LENGTH },
      signatures: { type: 'array', minItems: 1, maxItems: MAX_SIGNATURES, items: signature },
    },
    leaf ? ['payloadType', 'signatures'] : ['payload', 'payloadType', 'signatures'],
  );
  return object(leaf, {
    apiVersion: { const: '0.0.2' },
    kind: { const: 'intoto' },
    spec: object(leaf, {
      content: object(
        leaf,
        { envelope, hash: sha256Reference(leaf), payloadHash: sha256Reference(leaf) },
        leaf ? ['envelope', 'hash', 'payloadHash'] : ['envelope', 'hash'],
      ),
    }),
  });
};

const verifierV002 = object(
  true,
  {
    publicKey: object(true, {
      rawBytes: protoBytes(MAX_VERIFIER_LENGTH, 'base64 of a DER SubjectPublicKeyInfo'),
    }),
    x509Certificate: object(true, {
      rawBytes: protoBytes(MAX_VERIFIER_LENGTH, 'base64 of a DER certificate'),
    }),
    keyDetails: { type: 'string', minLength: 1, maxLength: 64, 'x-expected': 'a PublicKeyDetails name' },
  },
  ['keyDetails'],
);

const signatureV002 = object(true, {
  content: protoBytes(MAX_SIGNATURE_LENGTH, 'base64 of a signature'),
  verifier: verifierV002,
});

/** Rekor v2 CreateEntryRequest (sigstore/rekor-tiles `api/proto/rekor/v2/rekor_service.proto`). */
export const createEntryRequestSchema = object(
  true,
  {
    hashedRekordRequestV002: object(true, {
      digest: protoBytes(MAX_DIGEST_LENGTH, 'base64 of a digest'),
      signature: signatureV002,
    }),
    dsseRequestV002: object(true, {
      envelope: object(
        true,
        {
          payload: protoBytes(undefined, 'base64 of the payload', 0),
          payloadType: { type: 'string', maxLength: MAX_PAYLOAD_TYPE_LENGTH },
          signatures: {
            type: 'array',
            minItems: 1,
            maxItems: MAX_SIGNATURES,
            items: object(
              true,
              {
                sig: protoBytes(MAX_SIGNATURE_LENGTH, 'base64 of a signature'),
                keyid: { type: 'string', maxLength: MAX_KEYID_LENGTH },
              },
              ['sig'],
            ),
          },
        },
        ['payload', 'payloadType', 'signatures'],
      ),
      verifiers: { type: 'array', minItems: 1, maxItems: MAX_VERIFIERS, items: verifierV002 },
    }),
  },
  [],
);

const hashOutput = (algorithms: string[]) =>
  object(true, {
    algorithm: { enum: algorithms },
    digest: protoBytes(MAX_DIGEST_LENGTH, 'base64 of a digest'),
  });

export const hashedRekordV002LeafSchema = object(true, {
  apiVersion: { const: '0.0.2' },
  kind: { const: 'hashedrekord' },
  spec: object(true, {
    hashedRekordV002: object(true, {
      data: hashOutput(['SHA2_256', 'SHA2_384', 'SHA2_512']),
      signature: signatureV002,
    }),
  }),
});

export const dsseV002LeafSchema = object(true, {
  apiVersion: { const: '0.0.2' },
  kind: { const: 'dsse' },
  spec: object(true, {
    dsseV002: object(true, {
      payloadHash: hashOutput(['SHA2_256']),
      signatures: { type: 'array', minItems: 1, items: signatureV002 },
    }),
  }),
});

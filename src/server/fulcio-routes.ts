import type { IncomingHttpHeaders } from 'node:http';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { decodeBase64, encodePem, parseJson, type Logger } from '../core/index.ts';
import {
  CaError,
  type IssuedCertificate,
  type KeylessCa,
  type SigningCertificateRequest,
} from '../ca/index.ts';
import { toErrorResponse, type ErrorResponse } from './error-response.ts';
import type { FastPostRoute } from './fast-routes.ts';

export interface FulcioRoutesOptions {
  /** The `GET /api/v2/configuration` body: the issuers this CA accepts. */
  configuration: () => unknown;
  /** Largest request body accepted, in bytes. Default 64 KiB (a CSR or key and a token). */
  maxBodyBytes?: number;
  /** Told each issuance's stage timings (the `sigil_ca_*` metrics). */
  onIssued?: (issued: IssuedCertificate) => void;
  logger: Logger;
}

const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/**
 * `POST /api/v2/signingCert` (sigstore/fulcio `fulcio.proto` CreateSigningCertificate over
 * grpc-gateway): the token in `credentials.oidcIdentityToken` or `Authorization: Bearer`, a public key
 * with its proof of possession or a CSR; protojson field names in lowerCamelCase or snake_case. 200 with
 * `signedCertificateEmbeddedSct` (or `signedCertificateDetachedSct` without CT). A fast route: this is
 * the CA's hot path.
 */
export function fulcioSigningRoute(ca: KeylessCa, options: FulcioRoutesOptions): FastPostRoute {
  return {
    path: '/api/v2/signingCert',
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxConcurrent: 512,
    errorBody: fulcioErrorBody,
    async handle(body, headers) {
      const issued = await ca.issue(parseV2Request(body, headers));
      options.onIssued?.(issued);
      const chain = { certificates: issued.chain.map(toPem) };
      return {
        status: 200,
        body: issued.sct
          ? { signedCertificateEmbeddedSct: { chain } }
          : { signedCertificateDetachedSct: { chain, signedCertificateTimestamp: '' } },
      };
    },
  };
}

/**
 * The rest of Fulcio's HTTP API: legacy `POST /api/v1/signingCert` (201, PEM chain), `GET
 * /api/v2/trustBundle`, `GET /api/v2/configuration`, legacy `GET /api/v1/rootCert`. Errors as Fulcio's
 * `{code, message, details}`.
 */
export function createFulcioRouter(ca: KeylessCa, options: FulcioRoutesOptions): Router {
  const router = express.Router();
  const raw = express.raw({ limit: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, type: () => true });
  const chainPems = () => ca.signer.chain.map(toPem);

  router.post('/api/v1/signingCert', raw, async (request: Request, response: Response) => {
    const issued = await ca.issue(parseV1Request(bodyBytes(request.body), request.headers));
    options.onIssued?.(issued);
    response.status(201).type('application/pem-certificate-chain').send(issued.chain.map(toPem).join(''));
  });
  router.get('/api/v2/trustBundle', (_request: Request, response: Response) => {
    response.json({ chains: [{ certificates: chainPems() }] });
  });
  router.get('/api/v2/configuration', (_request: Request, response: Response) => {
    response.json(options.configuration());
  });
  router.get('/api/v1/rootCert', (_request: Request, response: Response) => {
    response.type('application/pem-certificate-chain').send(chainPems().join(''));
  });
  router.use(
    ['/api/v1/signingCert', '/api/v2/trustBundle', '/api/v2/configuration', '/api/v1/rootCert'],
    (error: unknown, _request: Request, response: Response, _next: NextFunction) => {
      const answer = toErrorResponse(error, options.logger);
      response.status(answer.status).set(answer.headers).json(fulcioErrorBody(answer));
    },
  );
  return router;
}

/**
 * Fulcio answers errors as a google.rpc.Status over grpc-gateway: `{code: <gRPC code>, message,
 * details}`. The message is Sigil's (it names the field); the Sigil code rides in an ErrorInfo detail.
 */
export function fulcioErrorBody(answer: ErrorResponse): unknown {
  return {
    code: GRPC_CODE_BY_STATUS[answer.status] ?? 13,
    message: answer.body.message,
    details: [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: answer.body.code, domain: 'sigil' },
    ],
  };
}

/** grpc-gateway's status mapping, reversed (google.golang.org/grpc/codes). */
const GRPC_CODE_BY_STATUS: Readonly<Record<number, number>> = {
  400: 3, // InvalidArgument
  401: 16, // Unauthenticated
  403: 7, // PermissionDenied
  404: 5, // NotFound
  409: 6, // AlreadyExists
  413: 3,
  429: 8, // ResourceExhausted
  500: 13, // Internal
  502: 14,
  503: 14, // Unavailable
};

type Json = Record<string, unknown>;

function parseV2Request(body: Uint8Array, headers: IncomingHttpHeaders): SigningCertificateRequest {
  const value = parseJsonObject(body);
  const credentials = field(value, 'credentials', 'credentials');
  const bodyToken =
    credentials === undefined
      ? undefined
      : field(asObject(credentials, 'credentials'), 'oidcIdentityToken', 'oidc_identity_token');
  const token = tokenFrom(bodyToken, headers, 'credentials.oidcIdentityToken');
  const publicKeyRequest = field(value, 'publicKeyRequest', 'public_key_request');
  const csr = field(value, 'certificateSigningRequest', 'certificate_signing_request');
  if (publicKeyRequest !== undefined && csr !== undefined) {
    throw new CaError(
      'CA_REQUEST_INVALID',
      'publicKeyRequest, certificateSigningRequest: expected exactly one, received both',
    );
  }
  if (csr !== undefined) {
    return {
      token,
      key: {
        kind: 'csr',
        content: decodeBase64(asString(csr, 'certificateSigningRequest'), 'certificateSigningRequest'),
      },
    };
  }
  if (publicKeyRequest === undefined) {
    throw new CaError(
      'CA_REQUEST_INVALID',
      'publicKeyRequest: expected a public key request or a certificateSigningRequest',
    );
  }
  const keyRequest = asObject(publicKeyRequest, 'publicKeyRequest');
  const publicKey = asObject(field(keyRequest, 'publicKey', 'public_key'), 'publicKeyRequest.publicKey');
  const content = asString(field(publicKey, 'content', 'content'), 'publicKeyRequest.publicKey.content');
  const proof = asString(
    field(keyRequest, 'proofOfPossession', 'proof_of_possession'),
    'publicKeyRequest.proofOfPossession',
  );
  return {
    token,
    key: {
      kind: 'public-key',
      content,
      proofOfPossession: decodeBase64(proof, 'publicKeyRequest.proofOfPossession'),
    },
  };
}

/** fulcio_legacy.proto: the token only as a bearer header; key content and signature base64 bytes. */
function parseV1Request(body: Uint8Array, headers: IncomingHttpHeaders): SigningCertificateRequest {
  const value = parseJsonObject(body);
  const token = tokenFrom(undefined, headers, 'Authorization');
  const csr = field(value, 'certificateSigningRequest', 'certificate_signing_request');
  if (csr !== undefined) {
    return {
      token,
      key: {
        kind: 'csr',
        content: decodeBase64(asString(csr, 'certificateSigningRequest'), 'certificateSigningRequest'),
      },
    };
  }
  const publicKey = asObject(field(value, 'publicKey', 'public_key'), 'publicKey');
  const content = decodeBase64(
    asString(field(publicKey, 'content', 'content'), 'publicKey.content'),
    'publicKey.content',
  );
  const proof = asString(field(value, 'signedEmailAddress', 'signed_email_address'), 'signedEmailAddress');
  return {
    token,
    key: { kind: 'public-key', content, proofOfPossession: decodeBase64(proof, 'signedEmailAddress') },
  };
}

function tokenFrom(bodyToken: unknown, headers: IncomingHttpHeaders, field: string): string {
  if (bodyToken !== undefined && bodyToken !== '') return asString(bodyToken, field);
  const authorization = headers.authorization;
  const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  if (bearer) return bearer[1]!;
  throw new CaError(
    'CA_TOKEN_INVALID',
    `${field}: expected an OIDC identity token (or an Authorization: Bearer header)`,
  );
}

function parseJsonObject(body: Uint8Array): Json {
  return asObject(parseJson(Buffer.from(body).toString('utf8'), { field: 'request body' }), 'request body');
}

function field(object: Json, camel: string, snake: string): unknown {
  return object[camel] ?? object[snake];
}

function asObject(value: unknown, name: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CaError('CA_REQUEST_INVALID', `${name}: expected an object, received ${describe(value)}`);
  }
  return value as Json;
}

function asString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new CaError(
      'CA_REQUEST_INVALID',
      `${name}: expected a non-empty string, received ${describe(value)}`,
    );
  }
  return value;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : typeof value;
}

function bodyBytes(body: unknown): Uint8Array {
  return Buffer.isBuffer(body) ? body : new Uint8Array(0);
}

function toPem(der: Uint8Array): string {
  return encodePem('CERTIFICATE', der);
}

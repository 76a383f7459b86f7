import { verify } from 'node:crypto';
import { readElement } from '../core/index.ts';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CaError } from './errors.ts';
import { parseRequestKey, type RequestKey } from './public-key-request.ts';

const PEM_CSR =
  /^-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END (?:NEW )?CERTIFICATE REQUEST-----\s*$/;
const MAX_CSR_BYTES = 16 * 1024;

/** Signature algorithms a CSR may be signed with, and the hash each implies (RFC 5758, RFC 4055, RFC 8410). */
const CSR_SIGNATURE_HASH: Readonly<Record<string, string | undefined>> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.3.101.112': undefined,
};

/**
 * A PKCS#10 request (PEM, as clients send it base64-encoded in `certificateSigningRequest`). Its
 * signature is the proof of possession; only its public key is used, the subject and attributes are
 * ignored, and the hash comes from its signature algorithm (sigstore/fulcio `pkg/server/grpc_server.go`
 * `getHashFuncForSignatureAlgorithm`).
 */
export function parseCertificateRequest(content: Uint8Array, field: string): RequestKey {
  if (content.length > MAX_CSR_BYTES) {
    throw new CaError('CA_CSR_INVALID', `${field}: expected at most ${MAX_CSR_BYTES} bytes`);
  }
  const text = Buffer.from(content).toString('latin1');
  const pem = PEM_CSR.exec(text.trim() + '\n');
  const der = pem ? Buffer.from(pem[1]!.replace(/[\r\n]/g, ''), 'base64') : Buffer.from(content);
  let request: CertificationRequest;
  let infoBytes: Uint8Array;
  let spkiBytes: Uint8Array;
  try {
    request = AsnConvert.parse(der, CertificationRequest);
    const outer = readElement(der, 0);
    if (outer.end !== der.length) throw new RangeError('trailing data');
    const info = readElement(der, outer.contentStart);
    infoBytes = der.subarray(outer.contentStart, info.end);
    const version = readElement(der, info.contentStart);
    const subject = readElement(der, version.end);
    const spki = readElement(der, subject.end);
    spkiBytes = der.subarray(subject.end, spki.end);
  } catch (error) {
    throw new CaError('CA_CSR_INVALID', `${field}: not a PKCS#10 certificate request`, { cause: error });
  }
  const algorithm = request.signatureAlgorithm.algorithm;
  if (!(algorithm in CSR_SIGNATURE_HASH)) {
    throw new CaError('CA_CSR_INVALID', `${field}: unsupported signature algorithm ${algorithm}`);
  }
  const requestKey = parseRequestKey(new Uint8Array(spkiBytes), `${field} public key`);
  let valid = false;
  try {
    valid = verify(CSR_SIGNATURE_HASH[algorithm], infoBytes, requestKey.key, Buffer.from(request.signature));
  } catch {
    // an unusable signature encoding is a signature that does not verify
  }
  if (!valid)
    throw new CaError('CA_CSR_INVALID', `${field}: the request's signature does not verify with its key`);
  return requestKey;
}

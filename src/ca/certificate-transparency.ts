import { decodeBase64, encodeElement, timeoutSignal } from '../core/index.ts';
import { CaError } from './errors.ts';

/** RFC 6962 §4.1 AddChainResponse, as a CT log answers add-chain and add-pre-chain. */
export interface AddChainResponse {
  sct_version: number;
  /** Base64 of the 32-byte log ID (SHA-256 of the log key's SPKI). */
  id: string;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** Base64 of the SCT extensions (static-ct-api: the 8-byte leaf_index extension). */
  extensions: string;
  /** Base64 of the TLS DigitallySigned struct. */
  signature: string;
}

/** The CT log a CA submits precertificates to: over HTTP, or in process under `sigil up`. */
export interface CtSubmitter {
  /**
   * Logs a precertificate: `chain` is DER, the precertificate first, then the CA chain up to the root
   * (sigstore/fulcio `pkg/ctl/utils.go` BuildCTChain). Resolves with the log's SCT once the entry is
   * sequenced (static-ct-api SCTs carry the leaf index).
   */
  addPreChain(chain: readonly Uint8Array[]): Promise<AddChainResponse>;
}

export interface HttpCtSubmitterOptions {
  /** The log's submission prefix; `/ct/v1/add-pre-chain` is appended. */
  url: string;
  /** Milliseconds before a submission is abandoned. Default 10,000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** A CtSubmitter for a log reached over HTTP (RFC 6962 §4.1, C2SP static-ct-api). */
export function httpCtSubmitter(options: HttpCtSubmitterOptions): CtSubmitter {
  const endpoint = `${options.url.replace(/\/$/, '')}/ct/v1/add-pre-chain`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const fetchImpl = options.fetch ?? fetch;
  return {
    async addPreChain(chain) {
      let response: Response;
      let text: string;
      const deadline = timeoutSignal(timeoutMs); // for the request and its body
      try {
        response = await fetchImpl(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ chain: chain.map((der) => Buffer.from(der).toString('base64')) }),
          signal: deadline.signal,
        });
        text = await response.text();
      } catch (error) {
        throw new CaError('CA_CT_UNAVAILABLE', `CT log ${endpoint}: unreachable (${String(error)})`, {
          cause: error,
        });
      } finally {
        deadline.clear();
      }
      if (!response.ok) {
        throw new CaError(
          'CA_CT_FAILED',
          `CT log ${endpoint}: HTTP ${response.status}: ${text.slice(0, 200)}`,
        );
      }
      return parseAddChainResponse(text, endpoint);
    },
  };
}

export function parseAddChainResponse(text: string, source: string): AddChainResponse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CaError('CA_CT_FAILED', `CT log ${source}: the answer is not JSON`);
  }
  const sct = value as Partial<AddChainResponse> | null;
  if (
    typeof sct !== 'object' ||
    sct === null ||
    sct.sct_version !== 0 ||
    typeof sct.id !== 'string' ||
    !Number.isSafeInteger(sct.timestamp) ||
    typeof sct.extensions !== 'string' ||
    typeof sct.signature !== 'string'
  ) {
    throw new CaError(
      'CA_CT_FAILED',
      `CT log ${source}: expected an RFC 6962 AddChainResponse (sct_version 0)`,
    );
  }
  return sct as AddChainResponse;
}

/**
 * RFC 6962 §3.2 SignedCertificateTimestamp in its TLS encoding: version, log ID, timestamp,
 * extensions (u16 length-prefixed), then the DigitallySigned struct as the log sent it.
 */
export function encodeSct(response: AddChainResponse): Uint8Array {
  const id = decodeBase64(response.id, 'sct.id');
  const extensions = decodeBase64(response.extensions, 'sct.extensions');
  const signature = decodeBase64(response.signature, 'sct.signature');
  if (id.length !== 32) throw new CaError('CA_CT_FAILED', `sct.id: expected 32 bytes, received ${id.length}`);
  const head = Buffer.alloc(1 + 32 + 8 + 2);
  head.writeUInt8(response.sct_version, 0);
  head.set(id, 1);
  head.writeBigUInt64BE(BigInt(response.timestamp), 33);
  head.writeUInt16BE(extensions.length, 41);
  return Buffer.concat([head, extensions, signature]);
}

/**
 * The extnValue of the embedded-SCT extension 1.3.6.1.4.1.11129.2.4.2 (RFC 6962 §3.3): an OCTET STRING
 * holding the TLS SignedCertificateTimestampList (u16 total length, then each SCT u16 length-prefixed).
 */
export function encodeSctListExtension(responses: readonly AddChainResponse[]): Uint8Array {
  const items = responses.map((response) => {
    const sct = encodeSct(response);
    const length = Buffer.alloc(2);
    length.writeUInt16BE(sct.length);
    return Buffer.concat([length, sct]);
  });
  const list = Buffer.concat(items);
  const total = Buffer.alloc(2);
  total.writeUInt16BE(list.length);
  return encodeElement(0x04, [Buffer.concat([total, list])]);
}

import { decodeBase64, isSigilError } from '../core/index.ts';
import { CtError } from './errors.ts';

/**
 * Parses the body of add-chain and add-pre-chain (RFC 6962 §4.1, §4.2): `{"chain": [...]}` with each
 * certificate as standard, padded base64 of its DER. Every bad element is named in one
 * CT_REQUEST_INVALID. The chain's length and contents are CtLog's to judge.
 */
export function parseAddChainRequest(body: unknown): Uint8Array[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new CtError(
      'CT_REQUEST_INVALID',
      `body: expected a JSON object {"chain": [<base64 DER>, ...]}, received ${describe(body)}`,
    );
  }
  const chain = (body as { chain?: unknown }).chain;
  if (!Array.isArray(chain)) {
    throw new CtError(
      'CT_REQUEST_INVALID',
      `chain: expected an array of base64 certificates, received ${describe(chain)}`,
    );
  }
  const problems: string[] = [];
  const certificates = chain.map((value: unknown, position) => {
    const field = `chain[${position}]`;
    if (typeof value !== 'string') {
      problems.push(`${field}: expected a base64 string, received ${describe(value)}`);
      return new Uint8Array();
    }
    try {
      return decodeBase64(value, field);
    } catch (error) {
      problems.push(isSigilError(error) ? error.message : `${field}: expected padded base64`);
      return new Uint8Array();
    }
  });
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).join('; ');
    const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
    throw new CtError('CT_REQUEST_INVALID', `${shown}${more}`);
  }
  return certificates;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'a string' : typeof value;
}

import { decodeUtf8, describeError, parseJson } from '../../core/index.ts';
import { LogError } from '../errors.ts';
import { readDsseV001Leaf } from './dsse-v001.ts';
import { readDsseV002Leaf } from './dsse-v002.ts';
import type { RekorEntry } from './entry.types.ts';
import { readHashedRekordV001Leaf } from './hashedrekord-v001.ts';
import { readHashedRekordV002Leaf } from './hashedrekord-v002.ts';
import { readIntotoV002Leaf } from './intoto-v002.ts';
import { preview } from './schema-validation.ts';

/**
 * Reads a stored leaf — the canonical entry bytes, as in a Rekor v1 `body`, a Rekor v2 tile entry or a
 * bundle's `canonicalizedBody` — back into a {@link RekorEntry}. The shape is checked strictly, so a
 * leaf that reads back canonicalizes to the same bytes (when it was canonical to begin with); nothing
 * is verified again, and dsse leaves carry no envelope to verify. Leaves written by earlier upstream
 * versions (an intoto envelope with its payload, a PEM as the client sent it) read back unchanged.
 *
 * Throws LogError LOG_ENTRY_INVALID for bytes that are not such a leaf, LOG_ENTRY_UNSUPPORTED for a
 * kind or version the log does not know.
 */
export function parseLoggedEntry(leaf: Uint8Array): RekorEntry {
  let json: unknown;
  try {
    json = parseJson(decodeUtf8(leaf, 'leaf'), { field: 'leaf', maxLength: leaf.length });
  } catch (cause) {
    throw new LogError('LOG_ENTRY_INVALID', describeError(cause), { cause });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new LogError('LOG_ENTRY_INVALID', 'leaf: expected a JSON object');
  }
  const { kind, apiVersion } = json as Record<string, unknown>;
  switch (`${String(kind)}/${String(apiVersion)}`) {
    case 'hashedrekord/0.0.1':
      return readHashedRekordV001Leaf(json);
    case 'dsse/0.0.1':
      return readDsseV001Leaf(json);
    case 'intoto/0.0.2':
      return readIntotoV002Leaf(json);
    case 'hashedrekord/0.0.2':
      return readHashedRekordV002Leaf(json);
    case 'dsse/0.0.2':
      return readDsseV002Leaf(json);
    default:
      throw new LogError(
        'LOG_ENTRY_UNSUPPORTED',
        `leaf: expected a hashedrekord, dsse or intoto entry the log knows, received ${preview(kind)} ${preview(apiVersion)}`,
      );
  }
}

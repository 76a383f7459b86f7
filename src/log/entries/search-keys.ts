import { assertNever, decodeBase64, decodeUtf8, encodeHex } from '../../core/index.ts';
import { hashFromProto } from './algorithm-policy.ts';
import { dsseV001Verifiers } from './dsse-v001.ts';
import { dsseV002Verifiers } from './dsse-v002.ts';
import type { EntrySearchKeys, EnvelopePayload, RekorEntry } from './entry.types.ts';
import { hashedRekordV001Verifier } from './hashedrekord-v001.ts';
import { hashedRekordV002Verifier } from './hashedrekord-v002.ts';
import { subjectAlternativeNames } from './internal/certificate-names.ts';
import { intotoV002Verifiers } from './intoto-v002.ts';
import type { VerifierKey } from './verifier-key.ts';

/**
 * The search-index keys of an entry, after sigstore/rekor `pkg/types/<kind>/<version>/entry.go`
 * IndexKeys, all lower-cased as Rekor's index storage writes them:
 * - the artifact: `sha256:<hex>` of a hashedrekord digest, of a DSSE payload (and envelope, for dsse),
 *   and every in-toto statement subject digest and SLSA v0.2 material digest when the entry still
 *   carries its envelope (entries parsed from a proposal);
 * - each verifier: hex SHA-256 of its canonical PEM (certificate or key), which is what
 *   `/api/v1/index/retrieve` computes from a queried public key (`pkg/api/index.go`), and the
 *   certificate's subject alternative names.
 *
 * Upstream prefixes dsse and intoto key hashes with `sha256:`, so a public-key query never finds
 * those entries; here every kind uses the bare hex a query produces. Upstream also drops all of an
 * entry's keys when its in-toto payload does not parse; here only the statement keys are skipped.
 */
export function entrySearchKeys(entry: RekorEntry): EntrySearchKeys {
  const artifacts: string[] = [];
  let verifiers: VerifierKey[];
  switch (entry.type) {
    case 'hashedrekord/0.0.1': {
      const { algorithm, value } = entry.body.spec.data.hash;
      artifacts.push(`${algorithm}:${value}`);
      verifiers = [hashedRekordV001Verifier(entry.body)];
      break;
    }
    case 'dsse/0.0.1': {
      const { payloadHash, envelopeHash } = entry.body.spec;
      artifacts.push(
        `${payloadHash.algorithm}:${payloadHash.value}`,
        `${envelopeHash.algorithm}:${envelopeHash.value}`,
      );
      verifiers = dsseV001Verifiers(entry.body);
      break;
    }
    case 'intoto/0.0.2': {
      const { payloadHash } = entry.body.spec.content;
      artifacts.push(`${payloadHash.algorithm}:${payloadHash.value}`);
      verifiers = intotoV002Verifiers(entry.body);
      break;
    }
    case 'hashedrekord/0.0.2': {
      const { algorithm, digest } = entry.body.spec.hashedRekordV002.data;
      artifacts.push(`${hashFromProto(algorithm)}:${encodeHex(decodeBase64(digest))}`);
      verifiers = [hashedRekordV002Verifier(entry.body)];
      break;
    }
    case 'dsse/0.0.2': {
      artifacts.push(`sha256:${encodeHex(decodeBase64(entry.body.spec.dsseV002.payloadHash.digest))}`);
      verifiers = dsseV002Verifiers(entry.body);
      break;
    }
    default:
      return assertNever(entry, 'entry');
  }
  if (entry.envelope !== undefined) artifacts.push(...statementDigests(entry.envelope));
  return Object.freeze({
    artifactHashes: unique(artifacts),
    publicKeyHashes: unique(verifiers.map((key) => key.canonicalPemSha256)),
    subjects: unique(
      verifiers.flatMap((key) => (key.source === 'certificate' ? subjectAlternativeNames(key.der) : [])),
    ),
  });
}

const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** Bounds the keys one statement can add to the index. */
const MAX_STATEMENT_DIGESTS = 256;

/** in-toto `subject[].digest` and SLSA v0.2 `predicate.materials[].digest`, as `<alg>:<digest>`. */
function statementDigests(envelope: EnvelopePayload): string[] {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) return [];
  let statement: unknown;
  try {
    statement = JSON.parse(decodeUtf8(envelope.payload));
  } catch {
    return [];
  }
  const record = asRecord(statement);
  const digests = [...digestsOf(record['subject']), ...digestsOf(asRecord(record['predicate'])['materials'])];
  return digests.slice(0, MAX_STATEMENT_DIGESTS);
}

function digestsOf(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item) =>
    Object.entries(asRecord(asRecord(item)['digest']))
      .filter((pair): pair is [string, string] => typeof pair[1] === 'string')
      .map(([algorithm, digest]) => `${algorithm}:${digest}`),
  );
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values.map((value) => value.toLowerCase()))];
}

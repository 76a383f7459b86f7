import {
  CoreError,
  DerSyntaxError,
  contentBytes,
  decodeUtf8,
  readWhole,
  type ParsedCertificate,
} from '../core/index.ts';
import { VerificationError } from './errors.ts';

/**
 * The Fulcio certificate extensions 1.3.6.1.4.1.57264.1.x (sigstore/fulcio `docs/oid-info.md`,
 * `pkg/certificate/extensions.go`): .1–.6 hold the raw UTF-8 bytes with no DER wrapper (deprecated,
 * still emitted), .8 onward a DER UTF8String. Names follow fulcio's Extensions struct, lower camel case.
 */
export interface FulcioExtensions {
  /** The OIDC issuer: .8, or the deprecated .1 when .8 is absent. */
  issuer?: string;
  /** .2 (deprecated) */
  githubWorkflowTrigger?: string;
  /** .3 (deprecated) */
  githubWorkflowSha?: string;
  /** .4 (deprecated) */
  githubWorkflowName?: string;
  /** .5 (deprecated) */
  githubWorkflowRepository?: string;
  /** .6 (deprecated) */
  githubWorkflowRef?: string;
  /** .9 */
  buildSignerUri?: string;
  /** .10 */
  buildSignerDigest?: string;
  /** .11 */
  runnerEnvironment?: string;
  /** .12 */
  sourceRepositoryUri?: string;
  /** .13 */
  sourceRepositoryDigest?: string;
  /** .14 */
  sourceRepositoryRef?: string;
  /** .15 */
  sourceRepositoryIdentifier?: string;
  /** .16 */
  sourceRepositoryOwnerUri?: string;
  /** .17 */
  sourceRepositoryOwnerIdentifier?: string;
  /** .18 */
  buildConfigUri?: string;
  /** .19 */
  buildConfigDigest?: string;
  /** .20 */
  buildTrigger?: string;
  /** .21 */
  runInvocationUri?: string;
  /** .22 */
  sourceRepositoryVisibilityAtSigning?: string;
  /** .23 */
  deploymentEnvironment?: string;
  /** .24 (fulcio PR #2307; absent from older certificates) */
  tokenSubject?: string;
}

const FULCIO_ARC = '1.3.6.1.4.1.57264.1.';

/**
 * Each extension's field, by arc under 1.3.6.1.4.1.57264.1: .1–.6 raw UTF-8, .8 onward DER UTF8String.
 * In arc order, so that .8 wins over the deprecated .1 for the issuer, as in fulcio's ParseExtensions.
 */
export const FULCIO_EXTENSION_FIELDS: ReadonlyArray<readonly [arc: number, field: keyof FulcioExtensions]> = [
  [1, 'issuer'],
  [2, 'githubWorkflowTrigger'],
  [3, 'githubWorkflowSha'],
  [4, 'githubWorkflowName'],
  [5, 'githubWorkflowRepository'],
  [6, 'githubWorkflowRef'],
  [8, 'issuer'],
  [9, 'buildSignerUri'],
  [10, 'buildSignerDigest'],
  [11, 'runnerEnvironment'],
  [12, 'sourceRepositoryUri'],
  [13, 'sourceRepositoryDigest'],
  [14, 'sourceRepositoryRef'],
  [15, 'sourceRepositoryIdentifier'],
  [16, 'sourceRepositoryOwnerUri'],
  [17, 'sourceRepositoryOwnerIdentifier'],
  [18, 'buildConfigUri'],
  [19, 'buildConfigDigest'],
  [20, 'buildTrigger'],
  [21, 'runInvocationUri'],
  [22, 'sourceRepositoryVisibilityAtSigning'],
  [23, 'deploymentEnvironment'],
  [24, 'tokenSubject'],
];

/** FULCIO_EXTENSION_FIELDS with each OID spelled out once (a string built per lookup costs a flatten and a hash). */
const FIELDS_BY_OID = FULCIO_EXTENSION_FIELDS.map(([arc, field]) => ({ arc, field, oid: FULCIO_ARC + arc }));

/** The last arc whose value is the raw string, without a DER wrapper. */
const LAST_RAW_ARC = 6;
const UTF8_STRING = 0x0c;

/**
 * The Fulcio extensions `leaf` carries; absent ones are left out. Throws VerificationError
 * VERIFY_IDENTITY_MISMATCH for a value that is not UTF-8, or (from .8 on) not a DER UTF8String: an
 * identity that cannot be read cannot match a policy.
 */
export function readFulcioExtensions(leaf: ParsedCertificate): FulcioExtensions {
  const extensions: FulcioExtensions = {};
  for (const { arc, field: name, oid } of FIELDS_BY_OID) {
    const extension = leaf.extensions.get(oid);
    if (!extension) continue;
    extensions[name] = readValue(() =>
      arc <= LAST_RAW_ARC ? decodeUtf8(extension.value, oid) : decodeUtf8String(extension.value, oid),
    );
  }
  return extensions;
}

/** The text of a DER UTF8String (X.690 §8.23) that makes up all of `der`. */
export function decodeUtf8String(der: Uint8Array, field: string): string {
  try {
    return decodeUtf8(contentBytes(der, readWhole(der, UTF8_STRING)), field);
  } catch (error) {
    if (!(error instanceof DerSyntaxError)) throw error;
    throw new CoreError(
      'CORE_ENCODING_INVALID',
      `${field}: expected a DER UTF8String, received ${error.message}`,
      {
        cause: error,
      },
    );
  }
}

function readValue(read: () => string): string {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof CoreError)) throw error;
    throw new VerificationError('VERIFY_IDENTITY_MISMATCH', `certificate extension ${error.message}`, {
      cause: error,
    });
  }
}

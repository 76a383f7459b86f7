import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodePem, describeError, parseCertificate } from '../../core/index.ts';

/**
 * Checks of single values that upstream policy-controller does in Go (`clusterimagepolicy_validation.go`,
 * `common/validation.go`). Each returns a reason string when the value is bad, or the parsed value.
 */

/** Upstream's glob alphabet (`pkg/apis/glob`); note `9-_` is a range, so `[`, `]`, `^` pass it. */
const GLOB_ALPHABET = /^[a-zA-Z0-9-_:/*.@]+$/;

/** Why `glob` is not a valid image glob, or undefined. Mirrors Go `filepath.Match` + `glob.Compile`. */
export function globProblem(glob: string): string | undefined {
  if (!GLOB_ALPHABET.test(glob)) return `glob is invalid: must match ${GLOB_ALPHABET.source}`;
  if (!isWellFormedGoPattern(glob)) return 'glob is invalid: syntax error in pattern';
  return undefined;
}

/** Go `path/filepath.Match` pattern syntax (non-Windows): character classes must be closed and non-empty. */
function isWellFormedGoPattern(pattern: string): boolean {
  let i = 0;
  const readChar = (): boolean => {
    const c = pattern[i];
    if (c === undefined || c === '-' || c === ']') return false;
    if (c === '\\') i++;
    if (pattern[i] === undefined) return false;
    i++;
    return true;
  };
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === '\\') {
      i += 2;
      if (i > pattern.length) return false;
    } else if (c === '[') {
      i++;
      if (pattern[i] === '^') i++;
      for (let ranges = 0; ; ranges++) {
        if (pattern[i] === ']' && ranges > 0) {
          i++;
          break;
        }
        if (!readChar()) return false;
        if (pattern[i] === '-') {
          i++;
          if (!readChar()) return false;
        }
      }
    } else {
      i++;
    }
  }
  return true;
}

/** Inline flags RE2 allows at the start of a pattern that JavaScript takes as RegExp flags. */
const LEADING_FLAGS = /^\(\?([imsU]+)\)/;
/** RE2 has no lookaround and no backreferences; JavaScript would accept them silently. */
const NOT_RE2 = /\(\?<?[=!]|\\[1-9]|\\k</;

/**
 * Compiles a Go (RE2) regular expression as a JavaScript RegExp with the same meaning for the patterns
 * policies use: leading `(?i)`-style flags become RegExp flags, `(?P<name>` becomes `(?<name>`,
 * `\A` and `\z` become anchors. Constructs RE2 rejects are rejected here too. Unanchored, like Go's
 * `MatchString`.
 */
export function compileGoRegExp(pattern: string): RegExp | string {
  if (NOT_RE2.test(pattern))
    return 'regex is invalid: lookaround and backreferences are not supported by RE2';
  let source = pattern;
  let flags = '';
  const leading = LEADING_FLAGS.exec(source);
  if (leading) {
    if (leading[1]?.includes('U')) return 'regex is invalid: the U flag is not supported';
    flags = [...new Set(leading[1])].join('');
    source = source.slice(leading[0].length);
  }
  source = source.replaceAll('(?P<', '(?<').replaceAll('\\A', '^').replaceAll('\\z', '(?![\\s\\S])');
  try {
    return new RegExp(source, flags);
  } catch (error) {
    return `regex is invalid: ${describeError(error)}`;
  }
}

/**
 * The public key in a PEM `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1) block, as sigstore's
 * `cryptoutils.UnmarshalPEMToPublicKey` accepts; undefined when it does not parse.
 */
export function parsePublicKeyPem(pem: string): KeyObject | undefined {
  try {
    const block = decodePem(pem)[0];
    if (!block) return undefined;
    if (block.label === 'PUBLIC KEY')
      return createPublicKey({ key: Buffer.from(block.der), format: 'der', type: 'spki' });
    if (block.label === 'RSA PUBLIC KEY') {
      return createPublicKey({ key: Buffer.from(block.der), format: 'der', type: 'pkcs1' });
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/** The DER of each certificate in a PEM chain; a reason string when a block is not a certificate. */
export function parseCertificateChainPem(pem: string, field: string): Uint8Array[] | string {
  try {
    const blocks = decodePem(pem, field);
    for (const block of blocks) {
      if (block.label !== 'CERTIFICATE') return `expected only CERTIFICATE blocks, received ${block.label}`;
      parseCertificate(block.der, field);
    }
    return blocks.map((block) => block.der);
  } catch (error) {
    return describeError(error);
  }
}

export type KmsProvider = 'awskms' | 'azurekms' | 'hashivault' | 'gcpkms';
const KMS_PROVIDERS: readonly KmsProvider[] = ['awskms', 'azurekms', 'hashivault', 'gcpkms'];

/** The provider of a KMS URI, or the reason it is malformed (`common.ValidateKMS`). */
export function kmsProvider(uri: string): KmsProvider | { problem: string } {
  const provider = KMS_PROVIDERS.find((scheme) => uri.startsWith(`${scheme}://`));
  if (!provider) {
    const schemes = KMS_PROVIDERS.map((scheme) => `${scheme}://`).join(' ');
    return {
      problem: `malformed KMS format, should be prefixed by any of the supported providers: [${schemes}]`,
    };
  }
  if (provider === 'awskms') {
    const problem = awsKmsProblem(uri);
    if (problem) return { problem };
  }
  return provider;
}

const AWS_UUID = '(?:mrk-)?[A-Fa-f0-9]{8}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{12}';
const AWS_ARN = 'arn:(?:aws|aws-us-gov):kms:[a-z0-9-]+:\\d{12}:';
const AWS_KMS_FORMS = [
  new RegExp(`^awskms://([^/]*)/(${AWS_UUID})$`),
  new RegExp(`^awskms://([^/]*)/(${AWS_ARN}key/${AWS_UUID})$`),
  /^awskms:\/\/([^/]*)\/(alias\/.*)$/,
  new RegExp(`^awskms://([^/]*)/(${AWS_ARN}alias/.*)$`),
];
const AWS_KMS_FORMAT =
  'kms key should be in the format awskms://[ENDPOINT]/[ID/ALIAS/ARN] (endpoint optional)';

/** `validateAWSKMS`: only key and alias ARNs are accepted, the endpoint must be host:port. */
function awsKmsProblem(uri: string): string | undefined {
  const parts = uri.split('/');
  if (parts.length < 4) return "malformed AWS KMS format 'awskms://$ENDPOINT/$KEYID'";
  if (!AWS_KMS_FORMS.some((form) => form.test(uri))) return AWS_KMS_FORMAT;
  const endpoint = parts[2] ?? '';
  if (endpoint.startsWith('arn') || endpoint.startsWith('alias')) return AWS_KMS_FORMAT;
  if (endpoint !== '' && !/^[^:]*:[0-9a-zA-Z]*$/.test(endpoint)) return `malformed endpoint: ${endpoint}`;
  const arn = (parts[3] ?? '').split(':');
  if (arn[0] !== 'arn') return 'failed to parse either key or alias arn: arn: invalid prefix';
  if (arn.length < 6) return 'failed to parse either key or alias arn: arn: not enough sections';
  const resource = arn.slice(5).join(':');
  if (resource !== 'key' && resource !== 'alias') return `unsupported ARN resource ${resource}`;
  return undefined;
}

const REGISTRY =
  '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?';
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const OCI_REPOSITORY = new RegExp(`^(?:${REGISTRY}/${PATH_COMPONENT}(?:/${PATH_COMPONENT})*|${REGISTRY})$`);

/** Why `oci` is neither a registry nor a registry/repository (`common.ValidateOCI`), or undefined. */
export function ociRepositoryProblem(oci: string): string | undefined {
  if (oci.length > 255 || !OCI_REPOSITORY.test(oci)) {
    return 'repository must be a registry host or registry/repository in lower case';
  }
  return undefined;
}

/** Whether `value` parses as an absolute URL (upstream's `apis.ParseURL` / `url.ParseRequestURI`). */
export function isAbsoluteUrl(value: string): boolean {
  return URL.canParse(value);
}

import { decodeBase64, decodeUtf8, describeError, publicKeyDer } from '../../core/index.ts';
import type { TrustedCertificateAuthority, TrustedLog, TrustRootSource } from '../trust-root.types.ts';
import type { FieldProblems } from './field-problems.ts';
import type { RawCertificateAuthority, RawTransparencyLog, RawTrustRootSpec } from './raw-documents.ts';
import { isAbsoluteUrl, parseCertificateChainPem, parsePublicKeyPem } from './value-checks.ts';

/**
 * Upstream's `TrustRoot.SetDefaults` and `Validate` (`trustroot_validation.go`), except that every
 * problem is kept (upstream's loops overwrite earlier certificate-authority errors) and bytes are decoded.
 */
export function checkTrustRootSpec(spec: RawTrustRootSpec, problems: FieldProblems): TrustRootSource {
  const forms = (['repository', 'remote', 'sigstoreKeys'] as const).filter((field) => spec[field] != null);
  const placeholder: TrustRootSource = {
    kind: 'sigstoreKeys',
    certificateAuthorities: [],
    tLogs: [],
    ctLogs: [],
    timestampAuthorities: [],
  };
  if (forms.length === 0) {
    problems.missingOneOf('repository', 'remote', 'sigstoreKeys');
    return placeholder;
  }
  if (forms.length > 1) {
    problems.multipleOneOf('repository', 'remote', 'sigstoreKeys');
    return placeholder;
  }
  if (spec.remote) {
    const at = problems.at('remote');
    const { mirror = '' } = spec.remote;
    if (mirror === '') at.missingField('mirror');
    else if (!isAbsoluteUrl(mirror)) at.invalidValue(mirror, 'mirror', 'expected an absolute URL');
    return {
      kind: 'remote',
      root: checkRoot(spec.remote.root, at),
      mirror,
      targets: spec.remote.targets || 'targets',
      trustedRootTarget: spec.remote.trustedRootTarget || 'trusted_root.json',
    };
  }
  if (spec.repository) {
    const at = problems.at('repository');
    if (!spec.repository.targets) at.missingField('targets');
    const root = checkRoot(spec.repository.root, at);
    const mirrorFS = spec.repository.mirrorFS
      ? decodeBytes(spec.repository.mirrorFS, at, 'mirrorFS')
      : new Uint8Array();
    if (mirrorFS.length === 0) at.missingField('mirrorFS');
    return {
      kind: 'repository',
      root,
      mirrorFS,
      targets: spec.repository.targets || 'targets',
      trustedRootTarget: spec.repository.trustedRootTarget || 'trusted_root.json',
    };
  }
  const keys = spec.sigstoreKeys ?? {};
  const at = problems.at('sigstoreKeys');
  if ((keys.certificateAuthorities?.length ?? 0) === 0 && (keys.timestampAuthorities?.length ?? 0) === 0) {
    at.missingOneOf('certificateAuthorities', 'timestampAuthorities');
  }
  return {
    kind: 'sigstoreKeys',
    certificateAuthorities: (keys.certificateAuthorities ?? []).map((ca, i) =>
      checkAuthority(ca, at.at('certificateAuthorities', i)),
    ),
    tLogs: (keys.tLogs ?? []).map((log, i) => checkLog(log, at.at('tLogs', i))),
    ctLogs: (keys.ctLogs ?? []).map((log, i) => checkLog(log, at.at('ctLogs', i))),
    timestampAuthorities: (keys.timestampAuthorities ?? []).map((tsa, i) =>
      checkAuthority(tsa, at.at('timestampAuthorities', i)),
    ),
  };
}

/** root.json must be JSON holding `signatures` (`ValidateRoot`). */
function checkRoot(root: string | undefined, problems: FieldProblems): Uint8Array {
  if (!root) {
    problems.missingField('root');
    return new Uint8Array();
  }
  const bytes = decodeBytes(root, problems, 'root');
  if (bytes.length === 0) return bytes;
  try {
    const parsed: unknown = JSON.parse(decodeUtf8(bytes, problems.path('root')));
    if (parsed === null || typeof parsed !== 'object' || !('signatures' in parsed)) {
      problems.invalidValue('missing signatures in root.json', 'root', 'no signatures');
    }
  } catch (error) {
    problems.invalidValue('failed to unmarshal', 'root', describeError(error));
  }
  return bytes;
}

function checkAuthority(ca: RawCertificateAuthority, problems: FieldProblems): TrustedCertificateAuthority {
  if (!ca.subject?.organization) problems.at('subject').missingField('organization');
  if (!ca.subject?.commonName) problems.at('subject').missingField('commonName');
  if (!ca.uri) problems.missingField('uri');
  else if (!isAbsoluteUrl(ca.uri)) problems.invalidValue(ca.uri, 'uri', 'expected an absolute URL');
  let certChain: Uint8Array[] = [];
  if (!ca.certChain) problems.missingField('certChain');
  else {
    const pem = decodeText(ca.certChain, problems, 'certChain');
    const parsed = parseCertificateChainPem(pem, problems.path('certChain'));
    if (typeof parsed === 'string')
      problems.invalidValue('error splitting the certificates', 'certChain', parsed);
    else certChain = parsed;
  }
  return {
    subject: { organization: ca.subject?.organization ?? '', commonName: ca.subject?.commonName ?? '' },
    uri: ca.uri ?? '',
    certChain,
  };
}

function checkLog(log: RawTransparencyLog, problems: FieldProblems): TrustedLog {
  if (!log.baseURL) problems.missingField('baseURL');
  else if (!isAbsoluteUrl(log.baseURL))
    problems.invalidValue(log.baseURL, 'baseURL', 'expected an absolute URL');
  if (!log.hashAlgorithm) problems.missingField('hashAlgorithm');
  let publicKey = undefined;
  if (!log.publicKey) problems.missingField('publicKey');
  else {
    publicKey = parsePublicKeyPem(decodeText(log.publicKey, problems, 'publicKey'));
    if (!publicKey) problems.invalidValue('not a PEM public key', 'publicKey');
  }
  return {
    baseURL: log.baseURL ?? '',
    hashAlgorithm: log.hashAlgorithm ?? '',
    // Placeholders are never returned: a missing key is a problem, and problems throw.
    publicKey: publicKey as NonNullable<typeof publicKey>,
    publicKeyDer: publicKey ? publicKeyDer(publicKey) : new Uint8Array(),
  };
}

/** The CRD's `[]byte` fields are base64 strings. */
function decodeBytes(text: string, problems: FieldProblems, field: string): Uint8Array {
  try {
    return decodeBase64(text.replace(/\s+/g, ''), problems.path(field));
  } catch (error) {
    problems.invalidValue('not base64', field, describeError(error));
    return new Uint8Array();
  }
}

/** A base64 field holding UTF-8 text (PEM). */
function decodeText(text: string, problems: FieldProblems, field: string): string {
  try {
    return decodeUtf8(decodeBytes(text, problems, field), problems.path(field));
  } catch (error) {
    problems.invalidValue('not UTF-8', field, describeError(error));
    return '';
  }
}

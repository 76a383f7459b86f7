import { FULCIO_EXTENSIONS } from './extensions.ts';

/**
 * Fulcio also reads its config as JSON with Go names (sigstore/fulcio `pkg/config/config.go` json tags;
 * sigstore/scaffolding writes it that way): `OIDCIssuers`, `MetaIssuers`, `CIIssuerMetadata`, issuer fields
 * `IssuerURL`, `ClientID`, ... This renames those to the YAML names; a document already in YAML names
 * passes through unchanged. Unknown names are kept, so the schema reports them.
 */
export function fromFulcioJsonNames(document: unknown): unknown {
  if (!isRecord(document) || !GO_TOP_LEVEL.some((name) => name in document)) return document;
  const renamed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(document)) {
    switch (name) {
      case 'OIDCIssuers':
        renamed['oidc-issuers'] = mapValues(value, (entry) => rename(entry, ISSUER_FIELDS));
        break;
      case 'MetaIssuers':
        renamed['meta-issuers'] = mapValues(value, (entry) => rename(entry, ISSUER_FIELDS));
        break;
      case 'CIIssuerMetadata':
        renamed['ci-issuer-metadata'] = mapValues(value, renameMetadata);
        break;
      default:
        renamed[name] = value;
    }
  }
  return renamed;
}

const GO_TOP_LEVEL = ['OIDCIssuers', 'MetaIssuers', 'CIIssuerMetadata'];

const ISSUER_FIELDS: Readonly<Record<string, string>> = {
  IssuerURL: 'issuer-url',
  ClientID: 'client-id',
  Type: 'type',
  CIProvider: 'ci-provider',
  IssuerClaim: 'issuer-claim',
  SubjectDomain: 'subject-domain',
  SPIFFETrustDomain: 'spiffe-trust-domain',
  ChallengeClaim: 'challenge-claim',
  SkipEmailVerification: 'skip-email-verification',
};

const EXTENSION_FIELDS: Readonly<Record<string, string>> = Object.fromEntries<string>([
  ['Issuer', 'issuer'],
  ...FULCIO_EXTENSIONS.filter((row) => row.goName && row.templateKey).map((row): [string, string] => [
    row.goName!,
    row.templateKey!,
  ]),
]);

function renameMetadata(entry: unknown): unknown {
  if (!isRecord(entry)) return entry;
  const renamed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(entry)) {
    if (name === 'DefaultTemplateValues') renamed['default-template-values'] = value;
    // Older Fulcio releases called the extension templates ClaimsTemplates.
    else if (name === 'ExtensionTemplates' || name === 'ClaimsTemplates')
      renamed['extension-templates'] = rename(value, EXTENSION_FIELDS);
    else if (name === 'SubjectAlternativeNameTemplate') renamed['subject-alternative-name-template'] = value;
    else renamed[name] = value;
  }
  return renamed;
}

function rename(entry: unknown, names: Readonly<Record<string, string>>): unknown {
  if (!isRecord(entry)) return entry;
  return Object.fromEntries(Object.entries(entry).map(([name, value]) => [names[name] ?? name, value]));
}

function mapValues(value: unknown, map: (entry: unknown) => unknown): unknown {
  if (!isRecord(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, map(entry)]));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

import { parse as parseYaml } from 'yaml';
import { describeError } from '../../core/index.ts';
import { CaError } from '../errors.ts';
import { BUILTIN_CI_ISSUER_METADATA } from './builtin-ci-metadata.ts';
import { parseClaimPath } from './claims.ts';
import { TEMPLATED_EXTENSIONS } from './extensions.ts';
import { checkIssuerConfigSchema, childPath } from './issuer-config-schema.ts';
import type {
  CiIssuerMetadata,
  CiIssuerMetadataDocument,
  IssuerConfig,
  MetaIssuer,
  OidcIssuer,
  OidcIssuerDocument,
  ValueTemplate,
} from './issuer-config.types.ts';
import { metaIssuerMatcher } from './meta-issuer.ts';
import { checkSpiffeTrustDomain } from './spiffe-id.ts';
import { compileTemplate, TemplateSyntaxError } from './template.ts';
import { fromFulcioJsonNames } from './fulcio-json-names.ts';

/** Largest config file accepted, in UTF-16 code units. */
const MAX_CONFIG_LENGTH = 4 * 1024 * 1024;
const DEFAULT_CLIENT_ID = 'sigstore';
/**
 * An alias used as a mapping key, `*github-type:` (config/identity/config.yaml does this). Go's yaml.v3
 * ends the alias at the colon; YAML 1.2 lets alias names contain `:`, so the `yaml` package would read an
 * alias named `github-type:`. A space before the colon means the same to both.
 */
const ALIAS_KEY = /^(\s*(?:-\s+)?)\*([^\s,[\]{}]+?):(?=\s|$)/gm;

/**
 * Reads a Fulcio issuer config: YAML (config/identity/config.yaml style, anchors allowed) or JSON, with
 * either the YAML field names or Fulcio's JSON/Go names (`OIDCIssuers`, `IssuerURL`, ...). `source` names
 * the file in errors. Throws CA_CONFIG_INVALID listing every bad field by its path.
 */
export function parseIssuerConfig(text: string, source = 'issuer config'): IssuerConfig {
  if (text.length > MAX_CONFIG_LENGTH)
    throw new CaError('CA_CONFIG_INVALID', `${source}: expected at most ${MAX_CONFIG_LENGTH} characters`);
  let value: unknown;
  try {
    // JSON is YAML; `maxAliasCount` bounds alias expansion (billion laughs).
    value = parseYaml(text.replace(ALIAS_KEY, '$1*$2 :'), { maxAliasCount: 1000, uniqueKeys: true });
  } catch (cause) {
    throw new CaError('CA_CONFIG_INVALID', `${source}: expected YAML or JSON, ${describeError(cause)}`, {
      cause,
    });
  }
  return resolveIssuerConfig(value ?? {}, source);
}

/**
 * Validates an already-parsed config document (YAML names or Fulcio's JSON names) and resolves it:
 * defaults filled in (`client-id` = `sigstore`, `issuer-url` = the map key), templates compiled, the
 * built-in GitHub and GitLab `ci-issuer-metadata` added unless the document has its own. The checks are
 * Fulcio's `validateConfig` plus the schema: each problem names its field path.
 */
export function resolveIssuerConfig(document: unknown, source = 'issuer config'): IssuerConfig {
  const checked = checkIssuerConfigSchema(fromFulcioJsonNames(document));
  if (!checked.ok) throw configError(source, checked.problems);
  const problems: string[] = [];
  const ciIssuerMetadata = new Map<string, CiIssuerMetadata>();
  const metadataDocuments = { ...BUILTIN_CI_ISSUER_METADATA, ...checked.document['ci-issuer-metadata'] };
  for (const [name, metadata] of Object.entries(metadataDocuments)) {
    const compiled = compileCiMetadata(metadata, childPath('ci-issuer-metadata', name), problems);
    if (compiled) ciIssuerMetadata.set(name, compiled);
  }
  const oidcIssuers = new Map<string, OidcIssuer>();
  for (const [key, entry] of Object.entries(checked.document['oidc-issuers'] ?? {})) {
    const path = childPath('oidc-issuers', key);
    const issuerUrl = entry['issuer-url'] ?? key;
    if (issuerUrl !== key)
      problems.push(
        `${path}.issuer-url: expected the entry's key ${JSON.stringify(key)}, received ${JSON.stringify(issuerUrl)}`,
      );
    checkIssuerUrl(issuerUrl, path, problems);
    const settings = resolveSettings(entry, path, ciIssuerMetadata, problems);
    checkDomains(entry, issuerUrl, path, problems);
    oidcIssuers.set(key, Object.freeze({ issuerUrl, ...settings }));
  }
  const metaIssuers: MetaIssuer[] = [];
  for (const [pattern, entry] of Object.entries(checked.document['meta-issuers'] ?? {})) {
    const path = childPath('meta-issuers', pattern);
    // Fulcio: a SPIFFE meta issuer would tie many issuers to one trust domain.
    if (entry.type === 'spiffe')
      problems.push(`${path}.type: expected a type other than spiffe for a meta issuer`);
    if (entry['issuer-url'] !== undefined)
      problems.push(`${path}.issuer-url: expected no such field in a meta issuer`);
    if (!/^https?:\/\/[^/?#]+/.test(pattern))
      problems.push(
        `${path}: expected an http or https issuer URL pattern, received ${JSON.stringify(pattern)}`,
      );
    const settings = resolveSettings(entry, path, ciIssuerMetadata, problems);
    metaIssuers.push(
      Object.freeze({ pattern, matcher: metaIssuerMatcher(pattern), settings: Object.freeze(settings) }),
    );
  }
  if (problems.length > 0) throw configError(source, problems);
  return Object.freeze({ oidcIssuers, metaIssuers: Object.freeze(metaIssuers), ciIssuerMetadata });
}

/**
 * The settings for tokens whose `iss` is `issuerUrl`: an `oidc-issuers` entry by exact key, else the first
 * `meta-issuers` pattern (in file order) that matches the whole URL. Undefined if none does.
 */
export function findIssuer(config: IssuerConfig, issuerUrl: string): OidcIssuer | undefined {
  const fixed = config.oidcIssuers.get(issuerUrl);
  if (fixed) return fixed;
  for (const meta of config.metaIssuers) {
    if (meta.matcher.test(issuerUrl)) return { issuerUrl, ...meta.settings };
  }
  return undefined;
}

function resolveSettings(
  entry: OidcIssuerDocument,
  path: string,
  ciIssuerMetadata: ReadonlyMap<string, CiIssuerMetadata>,
  problems: string[],
): Omit<OidcIssuer, 'issuerUrl'> {
  let issuerClaim: string[] | undefined;
  if (entry['issuer-claim'] !== undefined) {
    if (entry.type !== 'email')
      problems.push(`${path}.issuer-claim: expected only on email issuers, received type ${entry.type}`);
    issuerClaim = parseClaimPath(entry['issuer-claim']);
    if (!issuerClaim)
      problems.push(
        `${path}.issuer-claim: expected a claim path like $.federated_claims.connector_id, received ${JSON.stringify(entry['issuer-claim'])}`,
      );
  }
  if (entry.type === 'ci-provider') {
    const provider = entry['ci-provider'];
    if (provider === undefined)
      problems.push(
        `${path}.ci-provider: expected a ci-issuer-metadata name for type ci-provider, received nothing`,
      );
    else if (!ciIssuerMetadata.has(provider))
      problems.push(
        `${path}.ci-provider: expected one of ${[...ciIssuerMetadata.keys()].join(', ')}, received ${JSON.stringify(provider)}`,
      );
  }
  if (entry.type === 'spiffe') {
    const trustDomain = entry['spiffe-trust-domain'];
    if (trustDomain === undefined)
      problems.push(`${path}.spiffe-trust-domain: expected a trust domain for type spiffe, received nothing`);
    else if (!checkSpiffeTrustDomain(trustDomain))
      problems.push(
        `${path}.spiffe-trust-domain: expected a SPIFFE trust domain (lower-case letters, digits, ".", "-", "_"), received ${JSON.stringify(trustDomain)}`,
      );
  }
  if ((entry.type === 'uri' || entry.type === 'username') && entry['subject-domain'] === undefined)
    problems.push(`${path}.subject-domain: expected a domain for type ${entry.type}, received nothing`);
  return {
    clientId: entry['client-id'] ?? DEFAULT_CLIENT_ID,
    type: entry.type,
    ...(entry['ci-provider'] !== undefined && { ciProvider: entry['ci-provider'] }),
    ...(issuerClaim && { issuerClaim }),
    ...(entry['subject-domain'] !== undefined && { subjectDomain: entry['subject-domain'] }),
    ...(entry['spiffe-trust-domain'] !== undefined && { spiffeTrustDomain: entry['spiffe-trust-domain'] }),
    // sigstore/fulcio pkg/config/config.go issuerToChallengeClaim
    challengeClaim: entry['challenge-claim'] ?? (entry.type === 'email' ? 'email' : 'sub'),
    skipEmailVerification: entry['skip-email-verification'] ?? false,
  };
}

function checkIssuerUrl(url: string, path: string, problems: string[]): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:'))
    problems.push(`${path}: expected an http or https issuer URL, received ${JSON.stringify(url)}`);
}

/**
 * Fulcio's ownership rule: a `uri` subject domain (with scheme) or a `username` domain (without) MUST
 * share its top- and second-level domain with the issuer (pkg/config/config.go validateAllowedDomain).
 */
function checkDomains(entry: OidcIssuerDocument, issuerUrl: string, path: string, problems: string[]): void {
  const domain = entry['subject-domain'];
  if (domain === undefined || (entry.type !== 'uri' && entry.type !== 'username')) return;
  const issuerHost = hostOf(issuerUrl);
  if (issuerHost === undefined) return; // reported by checkIssuerUrl
  const field = `${path}.subject-domain`;
  if (entry.type === 'uri') {
    const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/.exec(domain);
    if (!match)
      return void problems.push(`${field}: expected a URL with a scheme, received ${JSON.stringify(domain)}`);
    if (`${match[1]!.toLowerCase()}:` !== new URL(issuerUrl).protocol)
      return void problems.push(
        `${field}: expected the issuer's scheme ${new URL(issuerUrl).protocol.slice(0, -1)}, received ${match[1]!}`,
      );
    checkAllowedDomain(hostname(match[2]!), issuerHost, field, problems);
  } else {
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(domain))
      return void problems.push(
        `${field}: expected a domain without a scheme, received ${JSON.stringify(domain)}`,
      );
    checkAllowedDomain(domain, issuerHost, field, problems);
  }
}

function checkAllowedDomain(
  subjectHost: string,
  issuerHost: string,
  field: string,
  problems: string[],
): void {
  if (subjectHost === issuerHost) return;
  const subject = subjectHost.split('.');
  const issuer = issuerHost.split('.');
  if (subject.length < 2 || issuer.length < 2) {
    problems.push(
      `${field}: expected a hostname with at least two labels, received ${JSON.stringify(subject.length < 2 ? subjectHost : issuerHost)}`,
    );
    return;
  }
  if (subject.at(-1) !== issuer.at(-1) || subject.at(-2) !== issuer.at(-2))
    problems.push(
      `${field}: expected the issuer's registered domain ${issuer.slice(-2).join('.')}, received ${subjectHost}`,
    );
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

/** The host of an authority `user@host:port`, without the port and without IPv6 brackets. */
function hostname(authority: string): string {
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon >= 0 ? host.slice(0, colon) : host;
}

function compileCiMetadata(
  metadata: CiIssuerMetadataDocument,
  path: string,
  problems: string[],
): CiIssuerMetadata | undefined {
  const before = problems.length;
  const compile = (source: string, at: string): ValueTemplate | undefined => {
    if (!source.includes('{{')) return { kind: 'claim', name: source };
    try {
      return { kind: 'template', template: compileTemplate(source) };
    } catch (error) {
      if (!(error instanceof TemplateSyntaxError)) throw error;
      problems.push(
        `${at}: expected a template Sigil can evaluate, ${error.message}, received ${JSON.stringify(source)}`,
      );
      return undefined;
    }
  };
  const templates = metadata['extension-templates'] ?? {};
  const extensionTemplates: CiIssuerMetadata['extensionTemplates'][number][] = [];
  for (const definition of TEMPLATED_EXTENSIONS) {
    const source = templates[definition.templateKey!];
    // Fulcio skips blank templates: the extension is then left out.
    if (source === undefined || source.trim() === '') continue;
    const value = compile(source, `${path}.extension-templates.${definition.templateKey!}`);
    if (value) extensionTemplates.push({ definition, value });
  }
  const sanSource = metadata['subject-alternative-name-template'];
  if (sanSource.trim() === '')
    problems.push(`${path}.subject-alternative-name-template: expected a template, received a blank string`);
  const subjectAlternativeNameTemplate = compile(sanSource, `${path}.subject-alternative-name-template`);
  if (problems.length > before || !subjectAlternativeNameTemplate) return undefined;
  const defaults = Object.fromEntries(
    Object.entries(metadata['default-template-values'] ?? {}).map(([name, value]) => [name, String(value)]),
  );
  return Object.freeze({
    defaultTemplateValues: Object.freeze(defaults),
    extensionTemplates: Object.freeze(extensionTemplates),
    subjectAlternativeNameTemplate,
  });
}

function configError(source: string, problems: readonly string[]): CaError {
  return new CaError('CA_CONFIG_INVALID', `${source}: ${problems.join('; ')}`);
}

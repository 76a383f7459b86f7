import { CaError } from '../errors.ts';
import { claimsAsStrings, describeClaim, requireStringClaim, type TokenClaims } from './claims.ts';
import type { FulcioExtensionField, FulcioExtensions } from './extensions.ts';
import type { IssuerConfig, OidcIssuer, ValueTemplate } from './issuer-config.types.ts';
import type { Principal } from './principal.types.ts';
import { TemplateMissingKeyError, type TemplateData } from './template.ts';

/**
 * The generic `ci-provider` issuer type (sigstore/fulcio `pkg/identity/ciprovider/principal.go`): the
 * provider's `ci-issuer-metadata` templates run over the token's claims (as strings) laid over the
 * `default-template-values`; the SAN is the `subject-alternative-name-template` as a URI; each non-empty
 * extension result is kept; the Issuer is always the token's `iss`; proof of possession over `sub`.
 */
export function ciProviderPrincipal(
  claims: TokenClaims,
  issuer: OidcIssuer,
  config: IssuerConfig,
): Principal {
  const subject = requireStringClaim(claims, 'sub', `ci-provider issuer ${issuer.issuerUrl}`);
  const metadata = config.ciIssuerMetadata.get(issuer.ciProvider ?? '');
  if (!metadata)
    throw new CaError(
      'CA_CONFIG_INVALID',
      `ci-provider: expected ci-issuer-metadata for ${JSON.stringify(issuer.ciProvider)}`,
    );
  // Claims win over defaults (maps.Copy order in Fulcio).
  const data: TemplateData = { ...metadata.defaultTemplateValues, ...claimsAsStrings(claims) };
  const san = apply(metadata.subjectAlternativeNameTemplate, data, 'subject-alternative-name-template');
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:[^\s\p{Cc}]*$/u.test(san))
    throw new CaError(
      'CA_CLAIM_INVALID',
      `subject-alternative-name-template: expected a URI, received ${describeClaim(san)}`,
    );
  const extensions: Partial<Record<FulcioExtensionField, string>> = {};
  for (const { definition, value } of metadata.extensionTemplates) {
    const result = apply(value, data, definition.templateKey!);
    if (result !== '') extensions[definition.field] = result;
  }
  return {
    name: subject,
    subjectAlternativeName: { kind: 'uri', value: san },
    extensions: { ...extensions, issuer: issuer.issuerUrl, tokenSubject: subject } satisfies FulcioExtensions,
  };
}

function apply(value: ValueTemplate, data: TemplateData, field: string): string {
  if (value.kind === 'claim') {
    const claim = Object.hasOwn(data, value.name) ? data[value.name] : undefined;
    if (claim === undefined)
      throw new CaError(
        'CA_CLAIM_MISSING',
        `${field}: expected claim ${value.name} in the token, received nothing`,
      );
    return claim;
  }
  try {
    return value.template.execute(data);
  } catch (error) {
    if (error instanceof TemplateMissingKeyError)
      throw new CaError(
        'CA_CLAIM_MISSING',
        `${field}: expected claim ${error.key} in the token, received nothing`,
      );
    throw new CaError('CA_CLAIM_INVALID', `${field}: the template failed, ${(error as Error).message}`);
  }
}

/**
 * The openAPIV3Schema of each CRD version, written once here. `crds/*.yaml` embeds these schemas
 * (regenerate with `npx tsx scripts/generate-crds.ts`; test/policy/crds.test.ts fails when they drift)
 * and the parser derives its ajv schema from them, so the cluster and Sigil check the same structure.
 *
 * Only structure lives here (types, field names, sizes): upstream checks values (modes, one-of rules,
 * keys, globs) in its webhook, and Sigil does the same in parse-policy.ts with upstream's wording.
 * Both served versions share one schema: upstream's v1alpha1 and v1beta1 types have the same fields.
 */

type Schema = Record<string, unknown>;

const string = (description?: string): Schema => ({
  type: 'string',
  ...(description ? { description } : {}),
});
const boolean = (description: string): Schema => ({ type: 'boolean', description });
const object = (properties: Record<string, Schema>, description?: string): Schema => ({
  type: 'object',
  ...(description ? { description } : {}),
  properties,
});
const array = (items: Schema, maxItems: number, description?: string): Schema => ({
  type: 'array',
  ...(description ? { description } : {}),
  maxItems,
  items,
});

/** The message of the apiserver rule that keyless authorities name at least one identity. */
export const KEYLESS_IDENTITIES_RULE_MESSAGE = 'keyless requires at least one identity';

const keyRef = (description: string): Schema =>
  object(
    {
      data: string('Data contains the inline public key (PEM); for ca-cert, the CA certificate chain (PEM).'),
      kms: string(
        'KMS contains the KMS url of the public key (awskms://, gcpkms://, azurekms://, hashivault://).',
      ),
      hashAlgorithm: string('HashAlgorithm is one of sha224, sha256, sha384, sha512; defaults to sha256.'),
      secretRef: object(
        { name: string('Name of the secret.'), namespace: string('Namespace of the secret.') },
        'SecretRef sets a reference to a secret with the key.',
      ),
    },
    description,
  );

const policy = object(
  {
    type: string('Which kind of policy this is: cue, rego (reported unsupported by Sigil) or cel.'),
    data: string('Data contains the policy definition.'),
    remote: object(
      {
        url: string('URL to the policy data (https).'),
        sha256sum: string('Sha256sum of the response body.'),
      },
      'Remote defines the url to a policy.',
    ),
    configMapRef: object(
      { name: string(), namespace: string(), key: string('Key defines the key to pull from the configmap.') },
      'ConfigMapRef defines the reference to a configMap with the policy definition.',
    ),
    fetchConfigFile: boolean('FetchConfigFile makes the image config file available to a CIP level policy.'),
    includeSpec: boolean('IncludeSpec makes the resource spec available to a CIP level policy.'),
    includeObjectMeta: boolean(
      'IncludeObjectMeta makes the resource metadata available to a CIP level policy.',
    ),
    includeTypeMeta: boolean(
      'IncludeTypeMeta makes the resource apiVersion and kind available to a CIP level policy.',
    ),
  },
  'Policy is evaluated over the verified signatures and attestations.',
);

const authority = object({
  name: string('Name of the authority; defaults to authority-<index>.'),
  key: keyRef('Key defines the type of key to validate the image.'),
  keyless: {
    ...object(
      {
        url: string('URL of the Fulcio instance; defaults to https://fulcio.sigstore.dev.'),
        'ca-cert': keyRef('CACert sets a reference to the CA certificate.'),
        identities: array(
          object({
            issuer: string(),
            subject: string(),
            issuerRegExp: string('Go (RE2) regular expression for the issuer.'),
            subjectRegExp: string('Go (RE2) regular expression for the subject.'),
          }),
          256,
          'Identities sets a list of identities.',
        ),
        trustRootRef: string('Use the certificate chain from the referred TrustRoot.'),
        insecureIgnoreSCT: boolean('InsecureIgnoreSCT omits verifying that the certificate contains an SCT.'),
      },
      'Keyless sets the configuration to verify the authority against a Fulcio instance.',
    ),
    'x-kubernetes-validations': [
      {
        rule: 'has(self.identities) && size(self.identities) > 0',
        message: KEYLESS_IDENTITIES_RULE_MESSAGE,
        fieldPath: '.identities',
      },
    ],
  },
  static: object(
    {
      action: string('Action is pass or fail.'),
      message: string('For fail actions, an optional custom message.'),
    },
    'Static applies a fixed decision to matching images.',
  ),
  source: array(
    object({
      oci: string('OCI defines the repository from where to pull the signatures and attestations.'),
      signaturePullSecrets: array(object({ name: string() }), 64),
      tagPrefix: string('TagPrefix is an optional prefix of the signature and attestation tags.'),
    }),
    16,
    'Sources sets where to consume the signatures from.',
  ),
  ctlog: object(
    {
      url: string('URL of the Rekor instance.'),
      trustRootRef: string('Use the keys from the referred TrustRoot.'),
    },
    'CTLog sets the configuration to verify the authority against a Rekor instance.',
  ),
  rfc3161timestamp: object(
    { trustRootRef: string('Use the timestamp authorities from the referred TrustRoot.') },
    'RFC3161Timestamp verifies the signature timestamp against a RFC3161 time-stamping authority.',
  ),
  signatureFormat: string(
    'SignatureFormat is legacy (cosign tags, the default) or bundle (Sigstore bundle).',
  ),
  attestations: array(
    object({
      name: string('Name of the attestation, referenced by the CIP level policy.'),
      predicateType: string(
        'A short name (custom, slsaprovenance, spdx, spdxjson, cyclonedx, link, vuln) or a URI.',
      ),
      policy,
    }),
    64,
    'Attestations that must be present and pass their policy.',
  ),
});

const labelSelector = object({
  matchLabels: { type: 'object', additionalProperties: { type: 'string' }, maxProperties: 64 },
  matchExpressions: array(object({ key: string(), operator: string(), values: array(string(), 256) }), 64),
});

export const CLUSTER_IMAGE_POLICY_SCHEMA: Schema = {
  type: 'object',
  required: ['spec'],
  properties: {
    apiVersion: string(),
    kind: string(),
    metadata: { type: 'object' },
    spec: {
      ...object({
        images: array(object({ glob: string('Glob of the image references this policy applies to.') }), 1024),
        authorities: array(authority, 256, 'Authorities; any one passing admits the image.'),
        policy,
        mode: string('Mode is enforce (default) or warn.'),
        match: array(
          object({ group: string(), version: string(), resource: string(), selector: labelSelector }),
          64,
          'Match narrows the policy to resources of these kinds and labels.',
        ),
      }),
      required: ['images'],
    },
    status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
};

const certificateAuthority = object({
  subject: object({ organization: string(), commonName: string() }),
  uri: string(),
  certChain: string('Base64 of the PEM certificate chain; the last certificate is the root.'),
});

const transparencyLog = object({
  baseURL: string(),
  hashAlgorithm: string(),
  publicKey: string('Base64 of the PEM public key.'),
});

export const TRUST_ROOT_SCHEMA: Schema = {
  type: 'object',
  required: ['spec'],
  properties: {
    apiVersion: string(),
    kind: string(),
    metadata: { type: 'object' },
    spec: object({
      remote: object({
        root: string('Base64 of the trusted initial TUF root.json.'),
        mirror: string('URL of the TUF mirror.'),
        targets: string(),
        trustedRootTarget: string(),
      }),
      repository: object({
        root: string('Base64 of the trusted initial TUF root.json.'),
        mirrorFS: string('Base64 of a gzipped tar of the TUF repository.'),
        targets: string(),
        trustedRootTarget: string(),
      }),
      sigstoreKeys: object({
        certificateAuthorities: array(certificateAuthority, 64),
        tLogs: array(transparencyLog, 64),
        ctLogs: array(transparencyLog, 64),
        timestampAuthorities: array(certificateAuthority, 64),
      }),
    }),
    status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
};

import { randomUUID } from 'node:crypto';
import { Agent, fetch } from 'undici';
import { describeError } from '../core/index.ts';
import type { JsonPatchOperation } from '../webhook/index.ts';
import { CliError } from './errors.ts';

/**
 * What `sigil demo` asks the webhook, as the API server would for `kubectl run NAME --image=IMAGE`: an
 * AdmissionReview of the Pod to `/mutate`, its JSONPatch applied, then the patched Pod to `/validate`
 * (validating webhooks see the object after every mutation). Over HTTPS, trusting only the webhook's
 * serving CA.
 */

export interface PodReview {
  readonly pod: string;
  /** The image as written in the pod. */
  readonly image: string;
  /** What /mutate answered: the digest pin, or nothing when the tag did not resolve. */
  readonly patch: readonly JsonPatchOperation[];
  /** The image after the patch (`image:tag@sha256:…` when pinned). */
  readonly admittedImage: string;
  readonly allowed: boolean;
  /** Why it was denied: the webhook's message, shown to the user by kubectl. */
  readonly message?: string;
  readonly warnings: readonly string[];
}

/** Per request to the webhook, ms; above its review deadline (8 s), as the API server's 10 s is. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface WebhookClient {
  review(pod: string, image: string): Promise<PodReview>;
  close(): Promise<void>;
}

/** A client of the webhook at `url` (`https://host:port`) trusting `caPem` alone. */
export function webhookClient(url: string, caPem: string): WebhookClient {
  const dispatcher = new Agent({ connect: { ca: caPem } });
  const post = async (path: '/mutate' | '/validate', object: unknown): Promise<AnsweredReview> => {
    const uid = randomUUID();
    let text: string;
    try {
      const response = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(podReview(uid, object)),
        dispatcher,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      text = await response.text();
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${text.slice(0, 200)}`);
    } catch (error) {
      throw new CliError('CLI_CHECK_FAILED', `${url}${path}: ${describeError(error)}`, { cause: error });
    }
    return readAnswer(`${url}${path}`, uid, text);
  };
  return {
    async review(pod, image) {
      const object = podObject(pod, image);
      const mutated = await post('/mutate', object);
      const patched = applyReplacements(object, mutated.patch, `${url}/mutate`);
      const validated = await post('/validate', patched);
      return {
        pod,
        image,
        patch: mutated.patch,
        admittedImage: (patched as { spec: { containers: { image: string }[] } }).spec.containers[0]!.image,
        allowed: validated.allowed,
        ...(validated.message !== undefined ? { message: validated.message } : {}),
        warnings: [...mutated.warnings, ...validated.warnings],
      };
    },
    close: () => dispatcher.close(),
  };
}

function podObject(name: string, image: string): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { run: name } },
    spec: { containers: [{ name, image }] },
  };
}

/** admission/v1 AdmissionReview of a Pod CREATE, as `kubectl run` causes. */
function podReview(uid: string, object: unknown): unknown {
  const { metadata } = object as { metadata: { name: string; namespace: string } };
  const kind = { group: '', version: 'v1', kind: 'Pod' };
  const resource = { group: '', version: 'v1', resource: 'pods' };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind,
      resource,
      requestKind: kind,
      requestResource: resource,
      name: metadata.name,
      namespace: metadata.namespace,
      operation: 'CREATE',
      userInfo: { username: 'sigil-demo', groups: ['system:authenticated'] },
      object,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}

interface AnsweredReview {
  readonly allowed: boolean;
  readonly message?: string;
  readonly warnings: readonly string[];
  readonly patch: readonly JsonPatchOperation[];
}

/** The `response` of an AdmissionReview answer, checked as the API server checks it. */
function readAnswer(where: string, uid: string, text: string): AnsweredReview {
  const fail = (message: string): never => {
    throw new CliError('CLI_CHECK_FAILED', `${where}: ${message}`);
  };
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch (error) {
    fail(`expected an AdmissionReview, ${describeError(error)}`);
  }
  const response = (answer as { response?: unknown } | null)?.response as
    | {
        uid?: unknown;
        allowed?: unknown;
        status?: { message?: unknown };
        warnings?: unknown;
        patch?: unknown;
      }
    | undefined;
  if (typeof response !== 'object' || response === null) return fail('response: expected an object');
  if (response.uid !== uid) fail(`response.uid: expected ${uid}, received ${JSON.stringify(response.uid)}`);
  if (typeof response.allowed !== 'boolean') fail('response.allowed: expected a boolean');
  let patch: JsonPatchOperation[] = [];
  if (typeof response.patch === 'string') {
    try {
      patch = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as JsonPatchOperation[];
    } catch (error) {
      fail(`response.patch: expected base64 of a JSON Patch, ${describeError(error)}`);
    }
    if (!Array.isArray(patch)) fail('response.patch: expected a JSON Patch array');
  }
  const message = response.status?.message;
  return {
    allowed: response.allowed as boolean,
    ...(typeof message === 'string' ? { message } : {}),
    warnings: Array.isArray(response.warnings) ? response.warnings.map(String) : [],
    patch,
  };
}

/**
 * `object` with the patch applied. The webhook's digest pins are `replace` operations (RFC 6902 §4.3)
 * of existing members; anything else is reported rather than half-applied.
 */
function applyReplacements(object: unknown, patch: readonly JsonPatchOperation[], where: string): unknown {
  const copy = structuredClone(object);
  for (const operation of patch) {
    const fail = (why: string): never => {
      throw new CliError('CLI_CHECK_FAILED', `${where}: patch ${JSON.stringify(operation)}: ${why}`);
    };
    if (operation.op !== 'replace') fail(`expected replace operations, received ${operation.op}`);
    // RFC 6901 §4: ~1 is '/', ~0 is '~', decoded in that order.
    const keys = operation.path
      .split('/')
      .slice(1)
      .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop() ?? fail('expected a path below the root');
    let target: unknown = copy;
    for (const key of keys) target = (target as Record<string, unknown> | undefined)?.[key];
    if (typeof target !== 'object' || target === null || !(last in target)) fail('no such member');
    (target as Record<string, unknown>)[last] = (operation as { value: unknown }).value;
  }
  return copy;
}

import { assertNever } from '../core/index.ts';
import type { AdmissionRequest } from './admission-review.ts';
import { WebhookError, expected } from './errors.ts';

/**
 * From an admission request to the images it would run. Which requests are never blocked follows
 * upstream policy-controller (`cmd/webhook/main.go` `types`, `pkg/webhook/validator.go`
 * `isDeletedOrStatusUpdate`, `pkg/apis/duck/v1beta1` `IsScalingDown`): deletes, connects, status and
 * scale subresources, scale-downs and objects being deleted. Where the pod spec lives per kind:
 * `/spec` (Pod), `/spec/template/spec` (controllers), `/spec/jobTemplate/spec/template/spec` (CronJob).
 */

export type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';
const CONTAINER_LISTS: readonly ContainerList[] = ['containers', 'initContainers', 'ephemeralContainers'];

export interface WorkloadImage {
  /** The image exactly as written in the object. */
  readonly image: string;
  /** RFC 6901 pointer of the image field: `/spec/template/spec/initContainers/0/image`. */
  readonly pointer: string;
  /** The container's name (`''` when the object has none). */
  readonly container: string;
  readonly list: ContainerList;
}

export interface Workload {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly resource: string;
  /** `ephemeralcontainers` for `kubectl debug`; absent otherwise. */
  readonly subResource?: string;
  /** `''` for a Pod created with only `generateName`. */
  readonly name: string;
  readonly namespace: string;
  /** The object's own `metadata.labels` (not the pod template's). */
  readonly labels: Readonly<Record<string, string>>;
  /** `default` when the pod spec names none, as the API server defaults it. */
  readonly serviceAccountName: string;
  readonly imagePullSecrets: readonly string[];
  /** containers, then initContainers, then ephemeralContainers, each in order. */
  readonly images: readonly WorkloadImage[];
}

export type Triage =
  /** Never blocked (delete, status update, scale-down, ...): allow without looking at images. */
  | { readonly action: 'skip'; readonly reason: string }
  /** Not a kind that carries a pod spec: the caller decides, with this warning to show. */
  | { readonly action: 'allow-unknown'; readonly warning: string }
  | { readonly action: 'check'; readonly workload: Workload };

interface WorkloadKind {
  /** Object keys from the root to the pod spec. */
  readonly podSpecPath: readonly string[];
  /** Has `spec.replicas`, so an UPDATE lowering it is a scale-down. */
  readonly scalable: boolean;
}

const TEMPLATE_SPEC = ['spec', 'template', 'spec'];
/** Keyed by `group/Kind`, any version: the pod spec sits at the same place in every served version. */
const WORKLOAD_KINDS: ReadonlyMap<string, WorkloadKind> = new Map([
  ['/Pod', { podSpecPath: ['spec'], scalable: false }],
  ['/ReplicationController', { podSpecPath: TEMPLATE_SPEC, scalable: true }],
  ['apps/Deployment', { podSpecPath: TEMPLATE_SPEC, scalable: true }],
  ['apps/ReplicaSet', { podSpecPath: TEMPLATE_SPEC, scalable: true }],
  ['apps/StatefulSet', { podSpecPath: TEMPLATE_SPEC, scalable: true }],
  ['apps/DaemonSet', { podSpecPath: TEMPLATE_SPEC, scalable: false }],
  ['batch/Job', { podSpecPath: TEMPLATE_SPEC, scalable: false }],
  ['batch/CronJob', { podSpecPath: ['spec', 'jobTemplate', 'spec', 'template', 'spec'], scalable: false }],
]);

type JsonRecord = Record<string, unknown>;

/**
 * Decides what to do with a request: skip it, let an unknown kind through with a warning, or check the
 * images of the workload it describes. Dry runs are checked like any other request. MUST throw
 * WEBHOOK_REVIEW_INVALID naming the field when a CREATE/UPDATE of a known kind has no object, no pod
 * spec where the kind requires one, or a container without a string image.
 */
export function triageRequest(request: AdmissionRequest): Triage {
  const { operation, kind, resource, subResource } = request;
  switch (operation) {
    case 'DELETE':
    case 'CONNECT':
      return skip(`operation ${operation} is never blocked`);
    case 'CREATE':
    case 'UPDATE':
      break;
    default:
      return assertNever(operation, 'operation');
  }
  const kindName = `${kind.group === '' ? '' : `${kind.group}/`}${kind.version} ${kind.kind}`;
  // pods/ephemeralcontainers carries the whole Pod since Kubernetes 1.22 (EphemeralContainersREST.New).
  const ephemeral = subResource === 'ephemeralcontainers' && kind.group === '' && kind.kind === 'Pod';
  if (subResource !== undefined && !ephemeral) {
    return skip(`subresource ${resource.resource}/${subResource} is never blocked`);
  }
  const workloadKind = WORKLOAD_KINDS.get(`${kind.group}/${kind.kind}`);
  if (workloadKind === undefined) {
    return { action: 'allow-unknown', warning: `${kindName} is not a workload kind sigil checks` };
  }

  const fail = failingWith(request.uid);
  const object = request.object;
  if (!isRecord(object)) return fail(`request.object: ${expected(`a ${kind.kind} object`, object)}`);
  const metadata = object['metadata'] ?? {};
  if (!isRecord(metadata)) return fail(`request.object.metadata: ${expected('an object', metadata)}`);
  const name = request.name ?? stringOr(metadata['name'], '');
  const namespace = request.namespace ?? stringOr(metadata['namespace'], '');
  const described = `${kind.kind} ${namespace === '' ? '' : `${namespace}/`}${name}`;

  if (metadata['deletionTimestamp'] != null) return skip(`${described} is being deleted`);
  if (operation === 'UPDATE' && workloadKind.scalable) {
    const before = replicasOf(request.oldObject);
    const after = replicasOf(object);
    if (before !== undefined && after !== undefined && after < before) {
      return skip(`scale-down of ${described} from ${before} to ${after} replicas is never blocked`);
    }
  }

  let podSpec: unknown = object;
  let field = 'request.object';
  for (const key of workloadKind.podSpecPath) {
    podSpec = (podSpec as JsonRecord)[key];
    field += `.${key}`;
    if (!isRecord(podSpec)) return fail(`${field}: ${expected('an object', podSpec)}`);
  }
  const spec = podSpec as JsonRecord;
  const pointer = `/${workloadKind.podSpecPath.join('/')}`;
  const serviceAccountName = spec['serviceAccountName'] ?? spec['serviceAccount'] ?? 'default';
  return {
    action: 'check',
    workload: {
      group: kind.group,
      version: kind.version,
      kind: kind.kind,
      resource: resource.resource,
      ...(ephemeral ? { subResource } : {}),
      name,
      namespace,
      labels: readLabels(metadata['labels']),
      serviceAccountName:
        typeof serviceAccountName === 'string' && serviceAccountName !== '' ? serviceAccountName : 'default',
      imagePullSecrets: readPullSecrets(spec['imagePullSecrets'], `${field}.imagePullSecrets`, fail),
      images: readImages(spec, field, pointer, fail),
    },
  };
}

function readImages(
  spec: JsonRecord,
  field: string,
  pointer: string,
  fail: (message: string) => never,
): WorkloadImage[] {
  const images: WorkloadImage[] = [];
  for (const list of CONTAINER_LISTS) {
    const containers = spec[list];
    if (containers == null) continue;
    if (!Array.isArray(containers)) return fail(`${field}.${list}: ${expected('an array', containers)}`);
    containers.forEach((container: unknown, index) => {
      const where = `${field}.${list}[${index}]`;
      if (!isRecord(container)) return fail(`${where}: ${expected('an object', container)}`);
      const imagePointer = `${pointer}/${list}/${index}/image`;
      const image = container['image'];
      if (typeof image !== 'string' || image === '') {
        return fail(`${where}.image (${imagePointer}): ${expected('a non-empty string', image)}`);
      }
      images.push({ image, pointer: imagePointer, container: stringOr(container['name'], ''), list });
    });
  }
  return images;
}

function readPullSecrets(value: unknown, field: string, fail: (message: string) => never): string[] {
  if (value == null) return [];
  if (!Array.isArray(value)) return fail(`${field}: ${expected('an array', value)}`);
  const names: string[] = [];
  value.forEach((secret: unknown, index) => {
    if (!isRecord(secret)) return fail(`${field}[${index}]: ${expected('an object', secret)}`);
    // LocalObjectReference.name is optional; an empty one names no secret.
    const name = stringOr(secret['name'], '');
    if (name !== '') names.push(name);
  });
  return names;
}

function readLabels(value: unknown): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!isRecord(value)) return labels;
  for (const [key, label] of Object.entries(value)) if (typeof label === 'string') labels[key] = label;
  return labels;
}

/** `spec.replicas` when the object has a numeric one (upstream IsScalingDown ignores a missing one). */
function replicasOf(object: unknown): number | undefined {
  if (!isRecord(object)) return undefined;
  const spec = object['spec'];
  const replicas = isRecord(spec) ? spec['replicas'] : undefined;
  return typeof replicas === 'number' && Number.isInteger(replicas) ? replicas : undefined;
}

function skip(reason: string): Triage {
  return { action: 'skip', reason };
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A thrower of WEBHOOK_REVIEW_INVALID for review `uid` (returned, not a named closure: see admission-review.ts). */
function failingWith(uid: string): (message: string) => never {
  return (message) => {
    throw new WebhookError('WEBHOOK_REVIEW_INVALID', message, { uid });
  };
}

import { describeError, systemClock, type Clock } from '../core/index.ts';
import { parseImageReference } from '../oci/index.ts';
import type { AdmittedResource } from '../policy/index.ts';
import { resourcePart, webhookDenial, type DecidedImage } from './image-decider.ts';
import type { ImageDecisions, ReviewScope } from './image-decisions.ts';
import type { LocalDecisions, PolicyFacts } from './local-decisions.ts';
import { noWebhookMetrics, type WebhookMetrics } from './webhook-metrics.ts';

/**
 * Webhook workers: processes that each terminate TLS, parse reviews and answer from their own copy of
 * the decisions made so far, asking the primary process (which holds the policies, the registry
 * clients and every cache, LocalDecisions) only for images they have not seen. Verifications stay
 * merged across all workers: the primary runs each once. Messages are JSON over the cluster channel.
 */

/** A review's scope as sent to the primary: the object only when the policies read it. */
export interface ScopeMessage {
  readonly resource: AdmittedResource;
  readonly namespace: string;
  readonly serviceAccountName: string;
  readonly imagePullSecrets: readonly string[];
  readonly deadlineAt: number;
}

export type WorkerMessage =
  | {
      readonly type: 'sigil:decide';
      readonly id: number;
      readonly image: string;
      readonly scope: ScopeMessage;
    }
  | {
      readonly type: 'sigil:resolve';
      readonly id: number;
      readonly image: string;
      readonly scope: ScopeMessage;
    };

export type PrimaryMessage =
  | ({ readonly type: 'sigil:policies' } & PolicyFacts)
  | {
      readonly type: 'sigil:decided';
      readonly id: number;
      readonly generation: number;
      readonly decided: DecidedImage;
    }
  | {
      readonly type: 'sigil:resolved';
      readonly id: number;
      readonly generation: number;
      readonly digest?: string;
      readonly keptUntil?: number;
      readonly error?: string;
    };

/** One end of the channel: how to send, and where messages arrive. */
export interface Channel<Out, In> {
  send(message: Out): void;
  onMessage(listener: (message: In) => void): void;
}

export interface WorkerDecisionsOptions {
  readonly metrics?: WebhookMetrics;
  readonly clock?: Clock;
  /** Decided images and digests kept. Default 10,000 each. */
  readonly maxEntries?: number;
  /** How long past the review's deadline an answer from the primary is awaited, ms. Default 2,000. */
  readonly graceMs?: number;
}

/** The worker's ImageDecisions: its own kept decisions, the primary for the rest. */
export class WorkerDecisions implements ImageDecisions {
  readonly #channel: Channel<WorkerMessage, PrimaryMessage>;
  readonly #options: WorkerDecisionsOptions;
  readonly #metrics: WebhookMetrics;
  readonly #clock: Clock;
  readonly #decisions = new Map<string, DecidedImage>();
  readonly #digests = new Map<string, { digest: string; keptUntil: number }>();
  readonly #waiting = new Map<number, (message: PrimaryMessage | undefined) => void>();
  #facts?: PolicyFacts;
  #nextId = 1;

  constructor(channel: Channel<WorkerMessage, PrimaryMessage>, options: WorkerDecisionsOptions = {}) {
    this.#channel = channel;
    this.#options = options;
    this.#metrics = options.metrics ?? noWebhookMetrics;
    this.#clock = options.clock ?? systemClock;
    channel.onMessage((message) => {
      if (message.type === 'sigil:policies') {
        const { generation, decisionScope, namespacedSecrets } = message;
        this.#facts = { generation, decisionScope, namespacedSecrets };
        this.#decisions.clear();
        this.#digests.clear();
        return;
      }
      const waiter = this.#waiting.get(message.id);
      this.#waiting.delete(message.id);
      waiter?.(message);
    });
  }

  /** Whether the primary has told which policies are in force (the worker's readiness). */
  get ready(): boolean {
    return this.#facts !== undefined;
  }

  async decide(image: string, scope: ReviewScope): Promise<DecidedImage> {
    const key = this.#decisionKey(image, scope);
    if (key !== undefined) {
      const kept = this.#decisions.get(key);
      if (kept?.keptUntil !== undefined && kept.keptUntil > this.#clock.now().getTime()) {
        this.#metrics.cacheLookup('decision', 'hit');
        return kept;
      }
      this.#metrics.cacheLookup('decision', 'miss');
    }
    const reply = await this.#ask({ type: 'sigil:decide', id: 0, image, scope: this.#scopeMessage(scope) });
    if (reply?.type !== 'sigil:decided') return unanswered(image);
    if (key !== undefined && reply.decided.keptUntil !== undefined) {
      if (reply.generation === this.#facts?.generation) this.#keep(this.#decisions, key, reply.decided);
    }
    return reply.decided;
  }

  async resolve(image: string, scope: ReviewScope): Promise<string> {
    const reference = parseImageReference(image);
    if (reference.digest !== undefined) return reference.digest;
    const key = `${credentialsOf(scope)}|${reference.canonical}`;
    const kept = this.#digests.get(key);
    if (kept !== undefined && kept.keptUntil > this.#clock.now().getTime()) return kept.digest;
    const reply = await this.#ask({ type: 'sigil:resolve', id: 0, image, scope: this.#scopeMessage(scope) });
    if (reply?.type !== 'sigil:resolved') {
      throw new Error(`cannot resolve ${image}: the webhook's primary process did not answer in time`);
    }
    if (reply.digest === undefined) throw new Error(reply.error ?? `cannot resolve ${image}`);
    if (reply.keptUntil !== undefined && reply.generation === this.#facts?.generation) {
      this.#keep(this.#digests, key, { digest: reply.digest, keptUntil: reply.keptUntil });
    }
    return reply.digest;
  }

  /** Sends `message` with a fresh id; the reply, or undefined once the deadline and the grace passed. */
  #ask(message: WorkerMessage): Promise<PrimaryMessage | undefined> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const wait = Math.max(0, message.scope.deadlineAt - this.#clock.now().getTime());
      const timer = setTimeout(
        () => {
          this.#waiting.delete(id);
          resolve(undefined);
        },
        wait + (this.#options.graceMs ?? 2_000),
      );
      this.#waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.#channel.send({ ...message, id });
    });
  }

  #keep<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    const max = this.#options.maxEntries ?? 10_000;
    while (map.size > max) map.delete(map.keys().next().value!);
  }

  /** Like the primary's decision key, with the pull-secret names standing for the credentials. */
  #decisionKey(image: string, scope: ReviewScope): string | undefined {
    const facts = this.#facts;
    const part = facts && resourcePart(facts.decisionScope, scope.resource);
    if (facts === undefined || part === undefined) return undefined;
    return `${facts.generation}|${credentialsOf(scope)}|${part}|${image}`;
  }

  #scopeMessage(scope: ReviewScope): ScopeMessage {
    const { object, ...resource } = scope.resource;
    return {
      resource:
        this.#facts?.decisionScope === 'object' || this.#facts === undefined
          ? { ...resource, object }
          : resource,
      namespace: scope.namespace,
      serviceAccountName: scope.serviceAccountName,
      imagePullSecrets: scope.imagePullSecrets,
      deadlineAt: scope.deadlineAt,
    };
  }
}

/** What names a review's credentials before the primary resolves them: namespace, account, secrets. */
function credentialsOf(scope: ReviewScope): string {
  return `${scope.namespace}/${scope.serviceAccountName}/${scope.imagePullSecrets.join(',')}`;
}

/** The decision when the primary did not answer: denied, saying so. */
function unanswered(image: string): DecidedImage {
  return webhookDenial(
    image,
    '(webhook)',
    'TIMED_OUT',
    `timed out verifying ${image}: the webhook's primary process did not answer`,
  );
}

/**
 * The primary's end for one worker: the policy facts now and after each change, and an answer to
 * every request from `local`. Returns how to stop.
 */
export function serveWorker(
  local: LocalDecisions,
  channel: Channel<PrimaryMessage, WorkerMessage>,
  options: { clock?: Clock } = {},
): () => void {
  const clock = options.clock ?? systemClock;
  channel.send({ type: 'sigil:policies', ...local.policyFacts() });
  const unsubscribe = local.onPolicyChange((facts) => channel.send({ type: 'sigil:policies', ...facts }));
  channel.onMessage((message) => {
    const scope = reviewScope(message.scope, clock);
    const { generation } = local.policyFacts();
    if (message.type === 'sigil:decide') {
      void local.decide(message.image, scope).then(
        (decided) => channel.send({ type: 'sigil:decided', id: message.id, generation, decided }),
        (error: unknown) =>
          channel.send({
            type: 'sigil:decided',
            id: message.id,
            generation,
            decided: webhookDenial(message.image, '(webhook)', 'EVIDENCE_UNAVAILABLE', describeError(error)),
          }),
      );
      return;
    }
    local.resolve(message.image, scope).then(
      (digest) => {
        const keptUntil = local.resolvedUntil(message.image, scope);
        channel.send({
          type: 'sigil:resolved',
          id: message.id,
          generation,
          digest,
          ...(keptUntil !== undefined ? { keptUntil } : {}),
        });
      },
      (error: unknown) =>
        channel.send({ type: 'sigil:resolved', id: message.id, generation, error: describeError(error) }),
    );
  });
  return unsubscribe;
}

function reviewScope(message: ScopeMessage, clock: Clock): ReviewScope {
  let deadline: Promise<'deadline'> | undefined;
  return {
    ...message,
    get deadline() {
      deadline ??= new Promise<'deadline'>((resolve) => {
        setTimeout(resolve, Math.max(0, message.deadlineAt - clock.now().getTime()), 'deadline').unref();
      });
      return deadline;
    },
  };
}

// What the client tells the world, as typed records: sessions emit these, the printer, the
// NDJSON event log and the report consume them. A listener that throws is reported, not fatal:
// one broken consumer must not stop the measurement.
import type { ClusterEvent } from '../common/cluster-events.js';

/** Who answered a session: the pod when the server names itself, else where the reply came from. */
export interface ServingIdentity {
  /** Unique among identities: `pod:<name>/<node>` or `source:<endpoint>/<software>`. */
  readonly key: string;
  /** What people read: the pod name, or the reply's source endpoint for a plain STUN server. */
  readonly label: string;
  readonly pod?: string;
  readonly node?: string;
  /** The reply's source endpoint, for identities of servers that do not name themselves. */
  readonly source?: string;
  readonly software?: string;
  /** True when the server named its pod in the reply (an affinity-tester server). */
  readonly named: boolean;
  /** Replies received from this identity so far (first answers only, never duplicates). */
  replies: number;
}

interface SessionEventBase {
  /** Epoch milliseconds. */
  time: number;
  /** Session number, 1-based. */
  session: number;
}

/** The first reply of a session. */
export interface EstablishedEvent extends SessionEventBase {
  type: 'established';
  identity: ServingIdentity;
  /** The reflective (XOR-MAPPED) address, `ip:port` or `[v6]:port`; undefined if the server sent none. */
  mapped?: string;
  rttMs: number;
}

export interface PodChangeEvent extends SessionEventBase {
  type: 'pod-change';
  from: ServingIdentity;
  to: ServingIdentity;
  /** How long the session had heard nothing before this reply. */
  silentMs: number;
}

export interface AddressChangeEvent extends SessionEventBase {
  type: 'address-change';
  from: string;
  to: string;
  silentMs: number;
}

/** LOSS_BURST consecutive requests of one session went unanswered. */
export interface LossBurstEvent extends SessionEventBase {
  type: 'loss-burst';
  consecutive: number;
  silentMs: number;
}

export type SessionEvent = EstablishedEvent | PodChangeEvent | AddressChangeEvent | LossBurstEvent;

/** Consecutive losses in one session that make a loss burst. */
export const LOSS_BURST = 3;

/** The events of a client run, by name, with their argument types. */
export interface ClientEvents {
  session: [event: SessionEvent];
  cluster: [event: ClusterEvent];
}

type Listener<A extends unknown[]> = (...args: A) => void;

/** An emitter whose event names and arguments the compiler checks. */
export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  private readonly listeners = new Map<keyof Events, Listener<never[]>[]>();

  constructor(private readonly onListenerError: (error: unknown, event: keyof Events) => void) {}

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): this {
    const list = this.listeners.get(event) ?? [];
    list.push(listener as unknown as Listener<never[]>);
    this.listeners.set(event, list);
    return this;
  }

  emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const list = this.listeners.get(event);
    if (list === undefined) return;
    for (const listener of list) {
      try {
        (listener as unknown as Listener<Events[K]>)(...args);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
  }
}

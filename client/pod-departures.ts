// When a pod left the Service's pool, from the cluster timeline: the one fact that tells an
// expected move (the session's pod had gone) from a violation (it was still there). Pure: it is
// fed ClusterEvents and asked about a time; it keeps each pod's and node's history, so a question
// about a move decided a little later is answered as of the move.
//
// A pod is out of the pool while any of three things holds: its endpoint is removed, not ready or
// terminating (kube-proxy routes new flows only to ready endpoints); the pod itself is deleted,
// not ready or terminating; its node is removed or NotReady. Each clears on its own (an endpoint
// ready or added again, the pod Ready, the node Ready), so a node coming back does not undo an
// endpoint removal.
import type { ClusterEvent, ClusterEventKind } from '../common/cluster-events.js';

/** The cluster events that take a pod out of the Service's pool. */
export type DepartureKind =
  | 'endpoint-removed'
  | 'endpoint-not-ready'
  | 'endpoint-terminating'
  | 'pod-deleted'
  | 'pod-not-ready'
  | 'pod-terminating'
  | 'node-removed'
  | 'node-not-ready';

export type Departure = ClusterEvent & { kind: DepartureKind };

type Condition = 'endpoint' | 'pod' | 'node';

/** What each kind does to which condition; kinds not listed (events, additions) change nothing. */
const EFFECTS: Partial<Record<ClusterEventKind, { condition: Condition; leaves: boolean }>> = {
  'endpoint-removed': { condition: 'endpoint', leaves: true },
  'endpoint-not-ready': { condition: 'endpoint', leaves: true },
  'endpoint-terminating': { condition: 'endpoint', leaves: true },
  // An endpoint event does not say whether an added endpoint is ready, only its text does; one
  // added again after a removal is taken as back (a new pod's endpoint never had sessions to lose).
  'endpoint-added': { condition: 'endpoint', leaves: false },
  'endpoint-ready': { condition: 'endpoint', leaves: false },
  'pod-deleted': { condition: 'pod', leaves: true },
  'pod-not-ready': { condition: 'pod', leaves: true },
  'pod-terminating': { condition: 'pod', leaves: true },
  // Not pod-added: a pod recreated under the same name is back only once it is Ready.
  'pod-ready': { condition: 'pod', leaves: false },
  'node-removed': { condition: 'node', leaves: true },
  'node-not-ready': { condition: 'node', leaves: true },
  'node-ready': { condition: 'node', leaves: false },
};

interface Transition {
  time: number;
  condition: Condition;
  /** The event that took the pod out; undefined when this transition brought it back. */
  departure: Departure | undefined;
}

export class PodDepartures {
  /** Endpoint and pod transitions by pod name, node transitions by node name; each in time order. */
  private readonly pods = new Map<string, Transition[]>();
  private readonly nodes = new Map<string, Transition[]>();

  add(event: ClusterEvent): void {
    const effect = EFFECTS[event.kind];
    if (effect === undefined) return;
    // An endpoint's subject is its address; its pod is named only when the slice has a targetRef.
    const name = effect.condition === 'endpoint' ? event.pod : event.subject;
    if (name === undefined) return;
    const histories = effect.condition === 'node' ? this.nodes : this.pods;
    let history = histories.get(name);
    if (history === undefined) histories.set(name, (history = []));
    const transition = { time: event.time, condition: effect.condition, departure: effect.leaves ? (event as Departure) : undefined };
    // A late event goes in its place by time, as in the cluster timeline.
    let index = history.length;
    while (index > 0 && history[index - 1]!.time > event.time) index--;
    history.splice(index, 0, transition);
  }

  /**
   * Whether `pod` (on `node`) was out of the pool at `time`: the latest of the events that still
   * held it out then, or undefined when it was in the pool (or never named by the watch).
   */
  departedAt(pod: string, node: string | undefined, time: number): Departure | undefined {
    const held = new Map<Condition, Departure | undefined>();
    for (const history of this.historiesOf(pod, node)) {
      for (const transition of history) {
        if (transition.time > time) break;
        held.set(transition.condition, transition.departure);
      }
    }
    let latest: Departure | undefined;
    for (const departure of held.values()) if (departure !== undefined && (latest === undefined || departure.time > latest.time)) latest = departure;
    return latest;
  }

  /** The first event that took `pod` out of the pool in (from, to], if any. */
  departedWithin(pod: string, node: string | undefined, from: number, to: number): Departure | undefined {
    let first: Departure | undefined;
    for (const history of this.historiesOf(pod, node)) {
      for (const { time, departure } of history) {
        if (time > to) break;
        if (time > from && departure !== undefined && (first === undefined || time < first.time)) first = departure;
      }
    }
    return first;
  }

  private historiesOf(pod: string, node: string | undefined): Transition[][] {
    const histories: Transition[][] = [];
    const ofPod = this.pods.get(pod);
    if (ofPod !== undefined) histories.push(ofPod);
    const ofNode = node === undefined ? undefined : this.nodes.get(node);
    if (ofNode !== undefined) histories.push(ofNode);
    return histories;
  }
}

/** How people read a departure: in a move's reason, in a stuck session's cause. */
export interface DepartureWords {
  /** "removed": after the pod's name, or the node's for node kinds. */
  short: string;
  /** "was removed from the Service". */
  past: string;
  /** Where a stale conntrack entry still sends a session: "the removed pod". */
  target: string;
}

const WORDS: Record<DepartureKind, DepartureWords> = {
  'endpoint-removed': { short: 'removed', past: 'was removed from the Service', target: 'the removed pod' },
  'endpoint-not-ready': { short: 'not ready', past: 'became not ready', target: 'a pod that is not ready' },
  'endpoint-terminating': { short: 'terminating', past: 'was marked terminating', target: 'the terminating pod' },
  'pod-deleted': { short: 'deleted', past: 'was deleted', target: 'the deleted pod' },
  'pod-not-ready': { short: 'not ready', past: 'became not ready', target: 'a pod that is not ready' },
  'pod-terminating': { short: 'terminating', past: 'was marked terminating', target: 'the terminating pod' },
  'node-removed': { short: 'removed', past: 'was removed', target: 'a pod on the removed node' },
  'node-not-ready': { short: 'NotReady', past: 'became NotReady', target: 'a pod on a NotReady node' },
};

export function departureWords(departure: Departure): DepartureWords {
  return WORDS[departure.kind];
}

export function isNodeDeparture(departure: Departure): boolean {
  return departure.kind === 'node-removed' || departure.kind === 'node-not-ready';
}

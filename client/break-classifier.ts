// Every break of affinity, classified: a pod change is an expected move (the session's pod had
// left the Service) or a violation (it was still there); an address change is a NAT rebinding on
// the same pod or came with a pod change; a session unanswered while the Service answers others
// is stuck (the stale conntrack entry of kubernetes/kubernetes#59368, #125467, #139628). Pure:
// fed the session events, one call per request sent and per reply, the cluster events and
// tick(now); it emits typed findings, each final when emitted.
//
// With a cluster watch, a move is judged by what the watch saw (PodDepartures). Without one, or
// for a pod the watch cannot name, it is inferred from the run: a pod that answered requests
// other sessions sent after the move was still in the pool (violation); one that answered none is
// taken as gone (expected, at lower confidence). Both wait before deciding, see settleWindowMs and
// DEFAULT_WATCH_LAG_MS.
import type { ClusterEvent } from '../common/cluster-events.js';
import { formatDuration } from '../common/duration.js';
import { plural } from '../common/format.js';
import type { AddressChangeEvent, PodChangeEvent, ServingIdentity, SessionEvent } from './events.js';
import { departureWords, isNodeDeparture, PodDepartures, type Departure } from './pod-departures.js';

/** A session unanswered this long while the Service answers others is stuck (--stuck-after). */
export const DEFAULT_STUCK_AFTER_MS = 5000;

/**
 * How long after a move a departure the watch reports still makes it expected. kube-proxy and the
 * client's watch read the same EndpointSlice change from the API server; kube-proxy usually acts
 * later (it syncs its rules first), but the client's watch may be the slower one, by up to the
 * API server's fan-out delay plus the client's own network path.
 */
export const DEFAULT_WATCH_LAG_MS = 1000;

/**
 * How long an inferred class waits before it is final: two request intervals, so every session
 * still sending has sent at least once after the move whatever its phase in the interval, plus
 * one timeout, so that request has had its whole time to be answered. By then a pod still in the
 * pool has answered every session it still serves.
 */
export function settleWindowMs(intervalMs: number, timeoutMs: number): number {
  return 2 * intervalMs + timeoutMs;
}

export type MoveClass = 'expected' | 'violation';

/**
 * Which rule decided a move: the watch saw the pod leave before it (`watch-departed`) or just
 * after, within the watch's lag (`watch-departed-after`), or saw it still ready
 * (`watch-still-ready`); without the watch the pod kept answering other sessions after it
 * (`kept-answering`) or answered none (`never-answered`, the one rule of low confidence).
 */
export type MoveRule = 'watch-departed' | 'watch-departed-after' | 'watch-still-ready' | 'kept-answering' | 'never-answered';

/** True for the rules that infer from the run instead of reading the watch. */
export function isInferred(rule: MoveRule): boolean {
  return rule === 'kept-answering' || rule === 'never-answered';
}

/** A pod change, classified. */
export interface MoveFinding {
  type: 'move';
  /** When the session moved: its first reply from the new pod. */
  time: number;
  session: number;
  from: ServingIdentity;
  to: ServingIdentity;
  silentMs: number;
  class: MoveClass;
  rule: MoveRule;
  confidence: 'high' | 'low';
  /** Without the pod's name, for the grouped line: "removed 400ms before". */
  reason: string;
  /** With it, for the session's line: "pod-b removed 400ms before". */
  evidence: string;
  /** The cluster event that decided it (the watch-departed rules). */
  cause?: ClusterEvent;
  /** Other sessions the previous pod answered after the move (the inference rules). */
  answeredAfter?: number;
  /** Set when the move ended a stuck episode: how long the session had been stuck. */
  stuckMs?: number;
  /** When the class became final (the move itself, or after the watch's lag or the settle window). */
  decidedAt: number;
}

export interface AddressChangeFinding {
  type: 'address-change';
  time: number;
  session: number;
  from: string;
  to: string;
  silentMs: number;
  /** A NAT rebinding on the way (same pod), or re-balanced through another node or SNAT. */
  class: 'same-pod' | 'with-pod-change';
  /** The pod the session was on before this reply; undefined if it was never answered. */
  pod?: ServingIdentity;
  /** With a pod change: the pod it moved to. */
  toPod?: ServingIdentity;
  evidence: string;
}

/** A session crossed --stuck-after. */
export interface StuckFinding {
  type: 'stuck';
  /** When the crossing was seen (the tick). */
  time: number;
  session: number;
  /** When its first unanswered request went out. */
  since: number;
  /** Its last pod; undefined when it was never answered. */
  pod?: ServingIdentity;
  cause: string;
  /** The cluster event behind the cause, when the watch saw its pod leave. */
  causeEvent?: ClusterEvent;
}

/** A stuck episode ended: the session was answered again, or the run ended (`recovered: false`). */
export interface StuckEndFinding {
  type: 'stuck-end';
  time: number;
  session: number;
  since: number;
  /** From its first unanswered request to the reply that ended it, or to the end of the run. */
  durationMs: number;
  recovered: boolean;
  pod?: ServingIdentity;
  /** Where it was answered again (the same pod, or the one it moved to). */
  to?: ServingIdentity;
  /** The likely cause, as known at the end of the episode. */
  cause: string;
  causeEvent?: ClusterEvent;
}

export type BreakFinding = MoveFinding | AddressChangeFinding | StuckFinding | StuckEndFinding;

export interface BreakCounts {
  expected: number;
  violations: number;
  /** Moves of the two counts above that were decided by inference, not by the watch. */
  inferred: number;
  addressChanges: number;
  /** Address changes without a pod change (NAT rebinding on the way). */
  samePodAddressChanges: number;
  /** Stuck episodes (a session stuck twice counts twice). */
  stuck: number;
  /** Sessions stuck right now. */
  stuckNow: number;
  /** Longest ended episode (the end of the run ends those still going). */
  longestStuckMs: number;
  /** Pod changes whose class is not final yet (within the watch's lag or the settle window). */
  undecided: number;
}

/** Breaks by the pod the session was on when the break began (for a move: the pod it left). */
export interface PodBreakCounts {
  pod: string;
  node?: string;
  expected: number;
  violations: number;
  addressChanges: number;
  stuck: number;
}

export interface BreakClassifierOptions {
  /** Sessions are numbered 1..sessions. */
  sessions: number;
  /** True when a cluster watch feeds clusterEvent(). */
  watched: boolean;
  /** See settleWindowMs(). */
  settleMs: number;
  stuckAfterMs?: number;
  watchLagMs?: number;
  emit: (finding: BreakFinding) => void;
}

/** What the run knows per serving identity. */
interface PodTrack {
  readonly identity: ServingIdentity;
  /** Per session, when it sent the latest request this pod answered (-Infinity: none). */
  readonly sentAt: Float64Array;
  /** When the latest request this pod answered, of any session, was sent. */
  latestSentAt: number;
  readonly counts: PodBreakCounts;
}

interface PendingMove {
  event: PodChangeEvent;
  from: PodTrack;
  stuckMs: number | undefined;
  /** Judged by the watch (after its lag) rather than inferred (after the settle window). */
  byWatch: boolean;
  deadline: number;
}

interface StuckEpisode {
  since: number;
  pod: PodTrack | undefined;
}

interface Judgement {
  class: MoveClass;
  rule: MoveRule;
  reason: string;
  cause?: Departure;
  answeredAfter?: number;
}

/** No break yet: the classifier's starting counts (and a base for tests' fixtures). */
export function emptyBreakCounts(): BreakCounts {
  return { expected: 0, violations: 0, inferred: 0, addressChanges: 0, samePodAddressChanges: 0, stuck: 0, stuckNow: 0, longestStuckMs: 0, undecided: 0 };
}

export class BreakClassifier {
  readonly watched: boolean;
  readonly settleMs: number;
  readonly stuckAfterMs: number;
  readonly watchLagMs: number;
  private readonly emit: (finding: BreakFinding) => void;
  private readonly sessions: number;
  private readonly departures = new PodDepartures();
  private readonly tracks = new Map<ServingIdentity, PodTrack>();

  /** Per session (index = number - 1): the track of the pod that answered it last. */
  private readonly podOf: (PodTrack | undefined)[];
  /** Per session: when its first request not yet answered went out (NaN: none). */
  private readonly unansweredSince: Float64Array;
  private readonly stuck: (StuckEpisode | undefined)[];
  /** Per session: its latest pod change, so an address change in the same reply is known as one. */
  private readonly movedAt: Float64Array;
  private readonly movedFrom: (PodTrack | undefined)[];
  private readonly movedTo: (PodTrack | undefined)[];
  /** When the latest request the Service answered, of any session, was sent. */
  private latestSentAt = -Infinity;
  private pending: PendingMove[] = [];
  private readonly total: BreakCounts = emptyBreakCounts();

  constructor(options: BreakClassifierOptions) {
    this.watched = options.watched;
    this.settleMs = options.settleMs;
    this.stuckAfterMs = options.stuckAfterMs ?? DEFAULT_STUCK_AFTER_MS;
    this.watchLagMs = options.watchLagMs ?? DEFAULT_WATCH_LAG_MS;
    this.emit = options.emit;
    this.sessions = options.sessions;
    this.podOf = new Array<PodTrack | undefined>(options.sessions).fill(undefined);
    this.unansweredSince = new Float64Array(options.sessions).fill(NaN);
    this.stuck = new Array<StuckEpisode | undefined>(options.sessions).fill(undefined);
    this.movedAt = new Float64Array(options.sessions).fill(NaN);
    this.movedFrom = new Array<PodTrack | undefined>(options.sessions).fill(undefined);
    this.movedTo = new Array<PodTrack | undefined>(options.sessions).fill(undefined);
  }

  /** Hot path, once per request: starts the session's unanswered time if nothing is outstanding. */
  sent(session: number, now: number): void {
    const index = session - 1;
    if (Number.isNaN(this.unansweredSince[index])) this.unansweredSince[index] = now;
  }

  /**
   * Hot path, once per answered request (answered, reordered or late; not duplicates), after
   * Session.reply() and so after the events it emitted: `identity` is the session's pod after
   * the reply, `sentAt` when the answered request went out. O(1), allocates nothing once the
   * identity is known.
   */
  reply(session: number, identity: ServingIdentity, sentAt: number, now: number): void {
    const index = session - 1;
    let track = this.podOf[index];
    if (track === undefined || track.identity !== identity) track = this.setPod(index, identity);
    if (sentAt > track.sentAt[index]!) track.sentAt[index] = sentAt;
    if (sentAt > track.latestSentAt) track.latestSentAt = sentAt;
    if (sentAt > this.latestSentAt) this.latestSentAt = sentAt;
    // A late answer to a request older than the first unanswered one says nothing about now.
    if (sentAt >= this.unansweredSince[index]!) {
      if (this.stuck[index] !== undefined) this.endStuck(index, now, true, track);
      this.unansweredSince[index] = NaN;
    }
  }

  /** The session events, as the sessions emit them (loss bursts change nothing here). */
  sessionEvent(event: SessionEvent): void {
    switch (event.type) {
      case 'established':
        this.setPod(event.session - 1, event.identity);
        return;
      case 'pod-change':
        this.onPodChange(event);
        return;
      case 'address-change':
        this.onAddressChange(event);
        return;
      case 'loss-burst':
        return;
    }
  }

  clusterEvent(event: ClusterEvent): void {
    this.departures.add(event);
  }

  /** Marks sessions that crossed --stuck-after and decides the moves whose wait is over. */
  tick(now: number): void {
    for (let index = 0; index < this.sessions; index++) {
      const since = this.unansweredSince[index]!;
      if (Number.isNaN(since) || this.stuck[index] !== undefined || now - since <= this.stuckAfterMs) continue;
      // Stuck only while the Service answers others: it answered a request sent after this
      // session's first unanswered one. Otherwise it is an outage of all, which loss reports.
      if (this.latestSentAt > since) this.startStuck(index, since, now);
    }
    if (this.pending.length === 0) return;
    const waiting: PendingMove[] = [];
    const due: PendingMove[] = [];
    for (const move of this.pending) (move.deadline <= now ? due : waiting).push(move);
    this.pending = waiting;
    this.total.undecided = waiting.length;
    this.decide(due, now);
  }

  /**
   * Ends the run at `now`: decides every move still waiting with what is known, and counts every
   * session still stuck up to now.
   */
  finish(now: number): void {
    this.tick(now);
    const rest = this.pending;
    this.pending = [];
    this.total.undecided = 0;
    this.decide(rest, now);
    for (let index = 0; index < this.sessions; index++) if (this.stuck[index] !== undefined) this.endStuck(index, now, false, undefined);
  }

  counts(): { total: BreakCounts; pods: PodBreakCounts[] } {
    return {
      total: { ...this.total },
      pods: [...this.tracks.values()].map((track) => ({ ...track.counts })).sort((a, b) => a.pod.localeCompare(b.pod) || (a.node ?? '').localeCompare(b.node ?? '')),
    };
  }

  private trackOf(identity: ServingIdentity): PodTrack {
    let track = this.tracks.get(identity);
    if (track === undefined) {
      const counts: PodBreakCounts = { pod: identity.label, expected: 0, violations: 0, addressChanges: 0, stuck: 0 };
      if (identity.node !== undefined) counts.node = identity.node;
      track = { identity, sentAt: new Float64Array(this.sessions).fill(-Infinity), latestSentAt: -Infinity, counts };
      this.tracks.set(identity, track);
    }
    return track;
  }

  private setPod(index: number, identity: ServingIdentity): PodTrack {
    const track = this.trackOf(identity);
    this.podOf[index] = track;
    return track;
  }

  private onPodChange(event: PodChangeEvent): void {
    const index = event.session - 1;
    const from = this.trackOf(event.from);
    const to = this.setPod(index, event.to);
    this.movedAt[index] = event.time;
    this.movedFrom[index] = from;
    this.movedTo[index] = to;
    let stuckMs: number | undefined;
    const episode = this.stuck[index];
    if (episode !== undefined) {
      stuckMs = event.time - episode.since;
      this.endStuck(index, event.time, true, to);
    }
    const pod = event.from.pod;
    if (this.watched && pod !== undefined) {
      const departure = this.departures.departedAt(pod, event.from.node, event.time);
      if (departure !== undefined) {
        this.record(event, from, stuckMs, event.time, {
          class: 'expected',
          rule: 'watch-departed',
          reason: `${departureShort(departure)} ${formatDuration(event.time - departure.time)} before`,
          cause: departure,
        });
        return;
      }
      this.wait({ event, from, stuckMs, byWatch: true, deadline: event.time + this.watchLagMs });
      return;
    }
    this.wait({ event, from, stuckMs, byWatch: false, deadline: event.time + this.settleMs });
  }

  private wait(move: PendingMove): void {
    this.pending.push(move);
    this.total.undecided = this.pending.length;
  }

  private decide(moves: readonly PendingMove[], now: number): void {
    // The answered-after counts of one pod come from one sorted copy of its per-session times.
    const sorted = new Map<PodTrack, Float64Array>();
    for (const move of moves) {
      const { event, from } = move;
      let judgement: Judgement;
      if (move.byWatch) {
        const late = this.departures.departedWithin(event.from.pod!, event.from.node, event.time, event.time + this.watchLagMs);
        judgement =
          late === undefined
            ? { class: 'violation', rule: 'watch-still-ready', reason: 'still ready' }
            : {
                class: 'expected',
                rule: 'watch-departed-after',
                reason: `${departureShort(late)} ${formatDuration(late.time - event.time)} after, within the watch's lag`,
                cause: late,
              };
      } else {
        let times = sorted.get(from);
        if (times === undefined) sorted.set(from, (times = from.sentAt.slice().sort()));
        let answeredAfter = times.length - upperBound(times, event.time);
        if (from.sentAt[event.session - 1]! > event.time) answeredAfter--;
        judgement =
          answeredAfter > 0
            ? { class: 'violation', rule: 'kept-answering', reason: `still answered ${plural(answeredAfter, 'other session')} after`, answeredAfter }
            : { class: 'expected', rule: 'never-answered', reason: 'answered no other session after', answeredAfter };
      }
      this.record(event, from, move.stuckMs, now, judgement);
    }
  }

  private record(event: PodChangeEvent, from: PodTrack, stuckMs: number | undefined, decidedAt: number, judgement: Judgement): void {
    if (judgement.class === 'expected') {
      this.total.expected++;
      from.counts.expected++;
    } else {
      this.total.violations++;
      from.counts.violations++;
    }
    if (isInferred(judgement.rule)) this.total.inferred++;
    const possessive = judgement.cause !== undefined && isNodeDeparture(judgement.cause) ? "'s" : '';
    const finding: MoveFinding = {
      type: 'move',
      time: event.time,
      session: event.session,
      from: event.from,
      to: event.to,
      silentMs: event.silentMs,
      class: judgement.class,
      rule: judgement.rule,
      confidence: judgement.rule === 'never-answered' ? 'low' : 'high',
      reason: judgement.reason,
      evidence: `${event.from.label}${possessive} ${judgement.reason}`,
      decidedAt,
    };
    if (judgement.cause !== undefined) finding.cause = judgement.cause;
    if (judgement.answeredAfter !== undefined) finding.answeredAfter = judgement.answeredAfter;
    if (stuckMs !== undefined) finding.stuckMs = stuckMs;
    this.emit(finding);
  }

  private onAddressChange(event: AddressChangeEvent): void {
    const index = event.session - 1;
    const withMove = this.movedAt[index] === event.time;
    const pod = withMove ? this.movedFrom[index] : this.podOf[index];
    this.total.addressChanges++;
    if (!withMove) this.total.samePodAddressChanges++;
    if (pod !== undefined) pod.counts.addressChanges++;
    const finding: AddressChangeFinding = {
      type: 'address-change',
      time: event.time,
      session: event.session,
      from: event.from,
      to: event.to,
      silentMs: event.silentMs,
      class: withMove ? 'with-pod-change' : 'same-pod',
      evidence: withMove
        ? `with the move ${pod?.identity.label} -> ${this.movedTo[index]?.identity.label}: re-balanced through another node or SNAT`
        : `same pod${pod === undefined ? '' : ` ${pod.identity.label}`}: a NAT rebinding on the way`,
    };
    if (pod !== undefined) finding.pod = pod.identity;
    if (withMove) finding.toPod = this.movedTo[index]!.identity;
    this.emit(finding);
  }

  private startStuck(index: number, since: number, now: number): void {
    const pod = this.podOf[index];
    this.stuck[index] = { since, pod };
    this.total.stuck++;
    this.total.stuckNow++;
    if (pod !== undefined) pod.counts.stuck++;
    const finding: StuckFinding = { type: 'stuck', time: now, session: index + 1, since, ...this.causeOf(pod, since, now) };
    if (pod !== undefined) finding.pod = pod.identity;
    this.emit(finding);
  }

  private endStuck(index: number, now: number, recovered: boolean, to: PodTrack | undefined): void {
    const episode = this.stuck[index]!;
    this.stuck[index] = undefined;
    this.total.stuckNow--;
    const durationMs = now - episode.since;
    if (durationMs > this.total.longestStuckMs) this.total.longestStuckMs = durationMs;
    const finding: StuckEndFinding = {
      type: 'stuck-end',
      time: now,
      session: index + 1,
      since: episode.since,
      durationMs,
      recovered,
      ...this.causeOf(episode.pod, episode.since, now),
    };
    if (episode.pod !== undefined) finding.pod = episode.pod.identity;
    if (to !== undefined) finding.to = to.identity;
    this.emit(finding);
  }

  /** Why a session is likely stuck on `pod`, as known at `now`. */
  private causeOf(pod: PodTrack | undefined, since: number, now: number): { cause: string; causeEvent?: ClusterEvent } {
    if (pod === undefined) return { cause: 'it was never answered' };
    const { label } = pod.identity;
    // The pod answered a request sent after this session's first unanswered one.
    const answersOthers = pod.latestSentAt > since;
    if (this.watched && pod.identity.pod !== undefined) {
      const departure = this.departures.departedAt(pod.identity.pod, pod.identity.node, now);
      if (departure !== undefined) {
        const words = departureWords(departure);
        const who = isNodeDeparture(departure) ? `node ${departure.subject} of its pod ${label}` : `its pod ${label}`;
        return {
          cause: `${who} ${words.past} ${formatDuration(now - departure.time)} ago and the session never moved: a stale conntrack entry still sends it to ${words.target}`,
          causeEvent: departure,
        };
      }
      return {
        cause: answersOthers
          ? `its pod ${label} is still a ready endpoint and answers other sessions: something on this session's path drops its datagrams`
          : `its pod ${label} is still a ready endpoint but answers no session: the pod stopped answering before Kubernetes noticed`,
      };
    }
    return {
      cause: answersOthers
        ? `its pod ${label} still answers other sessions: something on this session's path drops its datagrams (inferred)`
        : `its pod ${label} answers no session any more and the session never moved: likely a stale conntrack entry still sending it to a pod that is gone (inferred)`,
    };
  }
}

/** "removed", or "node node-2 NotReady" for a node's departure: what happened, without the pod. */
function departureShort(departure: Departure): string {
  const { short } = departureWords(departure);
  return isNodeDeparture(departure) ? `node ${departure.subject} ${short}` : short;
}

/** The index of the first value above `time` in ascending `values`. */
function upperBound(values: Float64Array, time: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (values[middle]! <= time) low = middle + 1;
    else high = middle;
  }
  return low;
}

// One TCP session's connection bookkeeping, pure with time passed in: how each connection ended,
// which pod it was on when it did, when to reconnect and whether the new connection landed on
// another pod. client/session-connections.ts owns the sockets and asks this file what to do;
// the requests themselves are still counted by the session (client/session.ts), as on UDP.

/**
 * How a connection ended. `reset`: ECONNRESET from the peer (RST); `closed`: the server closed its
 * side (FIN); `timeout`: open, but a request went unanswered for --timeout (long-echo's "the echo
 * stopped"); `error`: any other socket error. `refused` is no lost connection but an attempt that
 * never served: ECONNREFUSED, or a reset before the first answer (a server at --max-connections
 * accepts and resets at once).
 */
export type ConnectionEnd = 'reset' | 'closed' | 'timeout' | 'error';
export const CONNECTION_ENDS: readonly ConnectionEnd[] = ['reset', 'closed', 'timeout', 'error'];

export interface ReconnectPolicy {
  /** Reconnect after a lost or refused connection (--reconnect). */
  enabled: boolean;
  /** Consecutive attempts that do not serve before the session gives up (--reconnect-attempts). */
  maxAttempts: number;
  /** Wait before the first attempt; doubled per consecutive failure up to 32 times it (--reconnect-backoff). */
  backoffMs: number;
}

/** Reconnect after 100 ms, doubling per failed attempt, and give up after 10 attempts in a row. */
export const DEFAULT_RECONNECT: ReconnectPolicy = { enabled: true, maxAttempts: 10, backoffMs: 100 };

/** The wait before attempt `attempt` (1-based) of a row: backoff, 2x, 4x ... at most 32x. */
export function reconnectDelay(policy: ReconnectPolicy, attempt: number): number {
  return policy.backoffMs * 2 ** Math.min(Math.max(attempt - 1, 0), 5);
}

/** One lost connection: the pod it was on (undefined when it never answered) and how it ended. */
export interface ConnectionLoss {
  time: number;
  pod: string | undefined;
  end: ConnectionEnd;
}

/** A connection that came back: how long the session had none, and where it landed. */
export interface Reconnection {
  time: number;
  downMs: number;
  /** The pod of the lost connection, and of the new one (its first answer). */
  from: string | undefined;
  to: string;
  moved: boolean;
}

/**
 * A session that stopped reconnecting: after how many attempts in a row (0 with --no-reconnect),
 * and the connection it lost last, if one had answered (a session whose attempts never answered
 * has none).
 */
export interface GiveUp {
  time: number;
  attempts: number;
  lastLoss: ConnectionLoss | undefined;
}

export type ConnectionPhase = 'connecting' | 'open' | 'down' | 'given-up';

/** What to do after a connection ended or an attempt failed. */
export type NextStep = { readonly reconnectAt: number } | { readonly giveUp: GiveUp };

/** A session's connection figures, read-only to everyone but the state. */
export interface ConnectionCounters {
  /** Connections that served at least one answer. */
  served: number;
  lost: number;
  lostBy: Record<ConnectionEnd, number>;
  refused: number;
  /** Lost connections followed by a new one that answered; `moved`: on another pod. */
  reconnected: number;
  moved: number;
  /** Total and longest time between a loss and the next connection's first answer. */
  downMs: number;
  longestDownMs: number;
}

/** A session's connection figures before its first connection: all zero. */
export function emptyConnectionCounters(): ConnectionCounters {
  return { served: 0, lost: 0, lostBy: emptyEnds(), refused: 0, reconnected: 0, moved: 0, downMs: 0, longestDownMs: 0 };
}

export const emptyEnds = (): Record<ConnectionEnd, number> => ({ reset: 0, closed: 0, timeout: 0, error: 0 });

export class ConnectionState {
  private phaseNow: ConnectionPhase = 'connecting';
  private answeredOnThis = false;
  private podOfThis: string | undefined;
  /** The loss not yet followed by a serving connection. */
  private lastLoss: ConnectionLoss | undefined;
  private failedAttempts = 0;
  /** The session's timed-out count when this connection opened: more means an unanswered request. */
  private timedOutAtOpen = 0;
  private readonly c = emptyConnectionCounters();

  constructor(private readonly policy: ReconnectPolicy) {}

  get phase(): ConnectionPhase {
    return this.phaseNow;
  }

  get counters(): Readonly<ConnectionCounters> {
    return this.c;
  }

  /** The connection is open; `timedOut` is the session's timed-out count now. */
  opened(timedOut: number): void {
    this.phaseNow = 'open';
    this.answeredOnThis = false;
    this.podOfThis = undefined;
    this.timedOutAtOpen = timedOut;
  }

  /** An answer on the open connection from `pod`; returns the reconnection when it is the first after a loss. */
  answered(pod: string, now: number): Reconnection | undefined {
    this.podOfThis = pod;
    if (this.answeredOnThis) return undefined;
    this.answeredOnThis = true;
    this.failedAttempts = 0;
    this.c.served++;
    const loss = this.lastLoss;
    if (loss === undefined) return undefined;
    this.lastLoss = undefined;
    const downMs = now - loss.time;
    const moved = loss.pod !== undefined && loss.pod !== pod;
    this.c.reconnected++;
    if (moved) this.c.moved++;
    this.c.downMs += downMs;
    if (downMs > this.c.longestDownMs) this.c.longestDownMs = downMs;
    return { time: now, downMs, from: loss.pod, to: pod, moved };
  }

  /** True when the open connection has a request unanswered past --timeout (the session counted it lost). */
  stalled(timedOut: number): boolean {
    return this.phaseNow === 'open' && timedOut > this.timedOutAtOpen;
  }

  /**
   * The connection (or the attempt) ended at `now`. A connection that answered is a loss, counted
   * with its pod; one that never answered is a refused attempt.
   */
  ended(end: ConnectionEnd | 'refused', now: number): { loss?: ConnectionLoss; next: NextStep } {
    let loss: ConnectionLoss | undefined;
    if (end !== 'refused' && this.answeredOnThis) {
      loss = { time: now, pod: this.podOfThis, end };
      this.c.lost++;
      this.c.lostBy[end]++;
      // A second loss before a serving reconnection keeps the first one's time: the session has
      // been down since then.
      this.lastLoss ??= loss;
    } else {
      this.c.refused++;
    }
    this.answeredOnThis = false;
    const attempt = ++this.failedAttempts;
    if (!this.policy.enabled || attempt > this.policy.maxAttempts) {
      this.phaseNow = 'given-up';
      return { loss, next: { giveUp: { time: now, attempts: attempt - 1, lastLoss: this.lastLoss } } };
    }
    this.phaseNow = 'down';
    return { loss, next: { reconnectAt: now + reconnectDelay(this.policy, attempt) } };
  }

  /** A reconnection attempt starts. */
  connecting(): void {
    this.phaseNow = 'connecting';
  }

  /** At the end of the run: a session still down counts its time down so far. */
  finish(now: number): void {
    if (this.lastLoss === undefined) return;
    const downMs = now - this.lastLoss.time;
    this.c.downMs += downMs;
    if (downMs > this.c.longestDownMs) this.c.longestDownMs = downMs;
    this.lastLoss = undefined;
  }
}

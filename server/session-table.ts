// Per-session request counters, bounded in time and in memory.
//
// A session is identified by the 48-bit session id its client puts in every transaction id
// (common/stun/transaction-id.ts). Anyone can send us fresh session ids, so the table must not
// grow with them: it keeps two generations of entries. New and recently seen sessions live in
// the young generation; when the young generation is full (half the cap) or older than the idle
// timeout, the old generation is dropped whole and the young one becomes old. A session seen
// again while old moves back to young. This is an approximate LRU with O(1) work per request and
// no per-entry timers, so a flood of fresh ids costs at most `maxEntries` entries, never more.
//
// Exact idle expiry does not depend on the generations: every entry remembers when it was last
// seen, and an entry idle for longer than the timeout counts as a new session when it returns.

export interface SessionTableOptions {
  /** Most sessions held at once. Default 200,000 (roughly 20 MB). */
  maxEntries?: number;
  /** A session not heard from for this long starts counting from 1 again. Default 5 minutes. */
  idleMs?: number;
}

interface Entry {
  count: number;
  lastSeen: number;
}

export const DEFAULT_MAX_SESSIONS = 200_000;
export const DEFAULT_SESSION_IDLE_MS = 5 * 60_000;

export class SessionTable {
  readonly maxEntries: number;
  readonly idleMs: number;
  private young = new Map<number, Entry>();
  private old = new Map<number, Entry>();
  private youngSince: number | undefined;
  private readonly generationSize: number;

  constructor(options: SessionTableOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_SESSIONS;
    this.idleMs = options.idleMs ?? DEFAULT_SESSION_IDLE_MS;
    if (!(this.maxEntries >= 2)) throw new RangeError(`maxEntries must be at least 2, got ${this.maxEntries}`);
    if (!(this.idleMs > 0)) throw new RangeError(`idleMs must be positive, got ${this.idleMs}`);
    this.generationSize = Math.floor(this.maxEntries / 2);
  }

  /**
   * Counts one request from `sessionId` at `now` (ms) and returns how many requests this session
   * has made so far, this one included. 1 means the session is new (or came back after idling).
   */
  count(sessionId: number, now: number): number {
    if (this.youngSince === undefined) this.youngSince = now;
    else if (now - this.youngSince >= this.idleMs) this.rotate(now);

    let entry = this.young.get(sessionId);
    if (entry === undefined) {
      entry = this.old.get(sessionId);
      if (entry !== undefined) {
        this.old.delete(sessionId);
      } else {
        entry = { count: 0, lastSeen: now };
      }
      if (this.young.size >= this.generationSize) this.rotate(now);
      this.young.set(sessionId, entry);
    }
    if (now - entry.lastSeen > this.idleMs) entry.count = 0;
    entry.count++;
    entry.lastSeen = now;
    return entry.count;
  }

  /** Entries held now (active or not yet swept): never more than maxEntries. */
  get size(): number {
    return this.young.size + this.old.size;
  }

  /** Sessions heard from within the idle timeout. Walks the table: for metrics, not per request. */
  activeCount(now: number): number {
    let active = 0;
    for (const entry of this.young.values()) if (now - entry.lastSeen <= this.idleMs) active++;
    for (const entry of this.old.values()) if (now - entry.lastSeen <= this.idleMs) active++;
    return active;
  }

  private rotate(now: number): void {
    this.old = this.young;
    this.young = new Map();
    this.youngSince = now;
  }
}

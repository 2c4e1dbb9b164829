// Per-session request counters, bounded in time and in memory.
//
// A session is identified by the 48-bit session id its client puts in every transaction id
// (common/stun/transaction-id.ts). Anyone can send us fresh session ids, so the table must not
// grow with them, and must stay cheap while they pour in: a flood is exactly when a server must
// keep answering.
//
// So the table keeps two generations, each an open-addressing hash table in typed arrays (no
// object per session, nothing for the garbage collector to chase). New and recently seen
// sessions live in the young generation; when it holds half the cap, or is older than the idle
// timeout, the old generation is emptied and becomes the new young one, and the young one
// becomes old. A session found in the old generation moves back to young. This is an
// approximate LRU with O(1) work per request; memory is bounded by the cap whatever arrives.
//
// Exact idle expiry does not depend on the generations: every entry remembers when it was last
// seen, and an entry idle for longer than the timeout counts as a new session when it returns.

export interface SessionTableOptions {
  /** Most sessions held at once. Default 200,000 (at most about 10 MiB). */
  maxEntries?: number;
  /** A session not heard from for this long starts counting from 1 again. Default 5 minutes. */
  idleMs?: number;
}

export const DEFAULT_MAX_SESSIONS = 200_000;
export const DEFAULT_SESSION_IDLE_MS = 5 * 60_000;

const EMPTY = 0;
/** A slot whose session moved to the young generation: skipped by lookups, not the end of a probe. */
const MOVED = 0xffffffff;
const INITIAL_CAPACITY = 1024;
const TWO_32 = 0x1_0000_0000;

/** One generation: linear probing over power-of-two arrays, load factor at most 1/2. */
class Generation {
  hi!: Uint32Array;
  lo!: Uint32Array;
  /** Requests counted; EMPTY marks a free slot, MOVED a slot left behind by a promotion. */
  counts!: Uint32Array;
  lastSeen!: Float64Array;
  mask = 0;
  /** Slots holding a session (not EMPTY, not MOVED). */
  live = 0;

  constructor(
    capacity: number,
    private readonly maxCapacity: number,
  ) {
    this.allocate(capacity);
  }

  /** The slot holding (hi, lo), or -1. */
  find(hi: number, lo: number): number {
    const { counts, mask } = this;
    let slot = slotOf(hi, lo, mask);
    for (;;) {
      const count = counts[slot]!;
      if (count === EMPTY) return -1;
      if (count !== MOVED && this.lo[slot] === lo && this.hi[slot] === hi) return slot;
      slot = (slot + 1) & mask;
    }
  }

  /** Adds a session known to be absent; returns its slot. Only the young generation inserts. */
  insert(hi: number, lo: number, count: number, lastSeen: number): number {
    if ((this.live + 1) * 2 > this.counts.length && this.counts.length < this.maxCapacity) this.grow();
    const { counts, mask } = this;
    let slot = slotOf(hi, lo, mask);
    while (counts[slot] !== EMPTY) slot = (slot + 1) & mask;
    this.hi[slot] = hi;
    this.lo[slot] = lo;
    counts[slot] = count;
    this.lastSeen[slot] = lastSeen;
    this.live++;
    return slot;
  }

  clear(): void {
    this.counts.fill(EMPTY);
    this.live = 0;
  }

  activeCount(now: number, idleMs: number): number {
    let active = 0;
    for (let slot = 0; slot < this.counts.length; slot++) {
      const count = this.counts[slot]!;
      if (count !== EMPTY && count !== MOVED && now - this.lastSeen[slot]! <= idleMs) active++;
    }
    return active;
  }

  private allocate(capacity: number): void {
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.counts = new Uint32Array(capacity);
    this.lastSeen = new Float64Array(capacity);
    this.mask = capacity - 1;
    this.live = 0;
  }

  private grow(): void {
    const { hi, lo, counts, lastSeen } = this;
    this.allocate(counts.length * 2);
    for (let slot = 0; slot < counts.length; slot++) {
      const count = counts[slot]!;
      if (count !== EMPTY && count !== MOVED) this.insert(hi[slot]!, lo[slot]!, count, lastSeen[slot]!);
    }
  }
}

/** A well-mixed slot for a 48-bit id split in two 32-bit halves (murmur3's finaliser). */
function slotOf(hi: number, lo: number, mask: number): number {
  let h = lo ^ Math.imul(hi, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) & mask;
}

function powerOfTwoAtLeast(n: number): number {
  let p = INITIAL_CAPACITY;
  while (p < n) p *= 2;
  return p;
}

export class SessionTable {
  readonly maxEntries: number;
  readonly idleMs: number;
  private young: Generation;
  private old: Generation;
  private youngSince: number | undefined;
  private readonly generationSize: number;

  constructor(options: SessionTableOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_SESSIONS;
    this.idleMs = options.idleMs ?? DEFAULT_SESSION_IDLE_MS;
    if (!(this.maxEntries >= 2)) throw new RangeError(`maxEntries must be at least 2, got ${this.maxEntries}`);
    if (!(this.idleMs > 0)) throw new RangeError(`idleMs must be positive, got ${this.idleMs}`);
    this.generationSize = Math.floor(this.maxEntries / 2);
    // Load factor at most 1/2, so a full generation never needs more than this.
    const maxCapacity = powerOfTwoAtLeast(this.generationSize * 2);
    const initial = Math.min(INITIAL_CAPACITY, maxCapacity);
    this.young = new Generation(initial, maxCapacity);
    this.old = new Generation(initial, maxCapacity);
  }

  /**
   * Counts one request from `sessionId` (a 48-bit integer) at `now` (ms) and returns how many
   * requests this session has made so far, this one included. 1 means a new session (or one
   * that came back after idling).
   */
  count(sessionId: number, now: number): number {
    if (this.youngSince === undefined) this.youngSince = now;
    else if (now - this.youngSince >= this.idleMs) this.rotate(now);

    const hi = Math.floor(sessionId / TWO_32);
    const lo = sessionId >>> 0;
    let young = this.young;
    let slot = young.find(hi, lo);
    if (slot === -1) {
      let count = 0;
      let lastSeen = now;
      const old = this.old;
      const oldSlot = old.find(hi, lo);
      if (oldSlot !== -1) {
        count = old.counts[oldSlot]!;
        lastSeen = old.lastSeen[oldSlot]!;
        old.counts[oldSlot] = MOVED;
        old.live--;
      }
      if (young.live >= this.generationSize) {
        this.rotate(now);
        young = this.young;
      }
      slot = young.insert(hi, lo, count, lastSeen);
    }
    let count = young.counts[slot]!;
    if (now - young.lastSeen[slot]! > this.idleMs) count = 0;
    // Stop one short of MOVED: a session cannot plausibly make 4 billion requests.
    if (count < MOVED - 1) count++;
    young.counts[slot] = count;
    young.lastSeen[slot] = now;
    return count;
  }

  /** Entries held now (active or not yet swept): never more than maxEntries. */
  get size(): number {
    return this.young.live + this.old.live;
  }

  /** Sessions heard from within the idle timeout. Walks the table: for metrics, not per request. */
  activeCount(now: number): number {
    return this.young.activeCount(now, this.idleMs) + this.old.activeCount(now, this.idleMs);
  }

  private rotate(now: number): void {
    const emptied = this.old;
    emptied.clear();
    this.old = this.young;
    this.young = emptied;
    this.youngSince = now;
  }
}

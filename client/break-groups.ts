// Moves that happen together, as one group: when a pod leaves, all its sessions move within a
// second or so, and one line ("120 sessions left pod-b (removed 400ms before): pod-a 40, pod-c 80;
// expected") is what a person reads, beside the per-session lines. Pure: fed the classified moves
// as they are decided, asked with tick(now) for the groups that are complete.
import type { ServingIdentity } from './events.js';
import { isInferred, type MoveClass, type MoveFinding } from './break-classifier.js';

/** Moves of one pod and class at most this far apart (by move time) belong to one group. */
export const GROUP_WINDOW_MS = 1000;

export interface BreakGroup {
  /** The first move's time. */
  time: number;
  /** The last move's time. */
  lastTime: number;
  from: ServingIdentity;
  class: MoveClass;
  /** Decided by inference (no watch, or a pod the watch cannot name). */
  inferred: boolean;
  /** The first move's reason, e.g. "removed 400ms before". */
  reason: string;
  sessions: number;
  /** Where they went, by pod name. */
  to: { pod: ServingIdentity; sessions: number }[];
}

interface OpenGroup {
  group: BreakGroup;
  destinations: Map<ServingIdentity, number>;
  /** When its latest member was decided: the group is complete once none has come for a window. */
  lastDecidedAt: number;
}

export class BreakGroups {
  private readonly open = new Map<string, OpenGroup>();
  private closed: BreakGroup[] = [];

  /** `minSessions`: smaller groups are not worth a line of their own (the session's line says it all). */
  constructor(
    readonly windowMs = GROUP_WINDOW_MS,
    readonly minSessions = 2,
  ) {}

  add(move: MoveFinding): void {
    const inferred = isInferred(move.rule);
    const key = `${move.from.key}\n${move.class}\n${inferred}`;
    let open = this.open.get(key);
    if (open !== undefined && move.time - open.group.lastTime > this.windowMs) {
      this.close(key, open);
      open = undefined;
    }
    if (open === undefined) {
      open = {
        group: { time: move.time, lastTime: move.time, from: move.from, class: move.class, inferred, reason: move.reason, sessions: 0, to: [] },
        destinations: new Map(),
        lastDecidedAt: move.decidedAt,
      };
      this.open.set(key, open);
    }
    const { group } = open;
    group.sessions++;
    if (move.time > group.lastTime) group.lastTime = move.time;
    open.destinations.set(move.to, (open.destinations.get(move.to) ?? 0) + 1);
    open.lastDecidedAt = Math.max(open.lastDecidedAt, move.decidedAt);
  }

  /**
   * The groups complete at `now`: no member decided for a whole window. Moves are decided a fixed
   * time after they happen (at once, after the watch's lag or after the settle window), so a
   * window without decisions is a window without moves.
   */
  tick(now: number): BreakGroup[] {
    for (const [key, open] of this.open) if (now - open.lastDecidedAt > this.windowMs) this.close(key, open);
    return this.take();
  }

  /** Every group still open, at the end of the run. */
  flush(): BreakGroup[] {
    for (const [key, open] of this.open) this.close(key, open);
    return this.take();
  }

  private close(key: string, open: OpenGroup): void {
    this.open.delete(key);
    if (open.group.sessions < this.minSessions) return;
    open.group.to = [...open.destinations]
      .map(([pod, sessions]) => ({ pod, sessions }))
      .sort((a, b) => a.pod.label.localeCompare(b.pod.label) || a.pod.key.localeCompare(b.pod.key));
    this.closed.push(open.group);
  }

  private take(): BreakGroup[] {
    const closed = this.closed.sort((a, b) => a.time - b.time);
    this.closed = [];
    return closed;
  }
}

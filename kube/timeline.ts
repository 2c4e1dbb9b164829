// The cluster's events on the session clock, kept in time order, so that a break at time T can be
// explained by what the cluster did just before T. Pure: no I/O, no clock of its own.
import type { ClusterEvent } from '../common/cluster-events.js';

export class ClusterTimeline {
  readonly #events: ClusterEvent[] = [];
  #dropped = 0;

  /** `capacity` bounds memory on a long run in a busy namespace; the oldest events go first. */
  constructor(readonly capacity = 20_000) {}

  /** Adds an event; one that arrives late is put in its place by time. */
  add(event: ClusterEvent): void {
    const events = this.#events;
    let index = events.length;
    while (index > 0 && events[index - 1]!.time > event.time) index--;
    events.splice(index, 0, event);
    const excess = events.length - this.capacity;
    if (excess > 0) {
      events.splice(0, excess);
      this.#dropped += excess;
    }
  }

  /** Events with time in [time - windowMs, time], newest first, at most `limit`. */
  eventsBefore(time: number, limit: number, windowMs: number): ClusterEvent[] {
    const found: ClusterEvent[] = [];
    if (limit <= 0) return found;
    const events = this.#events;
    // Binary search for the first event after `time`, then walk back.
    let low = 0;
    let high = events.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (events[middle]!.time <= time) low = middle + 1;
      else high = middle;
    }
    const earliest = time - windowMs;
    for (let index = low - 1; index >= 0 && found.length < limit; index--) {
      const event = events[index]!;
      if (event.time < earliest) break;
      found.push(event);
    }
    return found;
  }

  /** Every event kept, oldest first (a copy). */
  events(): ClusterEvent[] {
    return [...this.#events];
  }

  /** How many events were dropped because the timeline was full. */
  get dropped(): number {
    return this.#dropped;
  }
}

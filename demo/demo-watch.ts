// DEMO FIXTURE: the demo's own cluster watch. The demo publishes what its "cluster" does (an
// endpoint added or removed, named by pod as an EndpointSlice's targetRef names it) on the run's
// clock, so the client classifies the demo's breaks exactly as it does with a real watch.
import type { ClusterEvent, ClusterWatch, PodIdentity } from '../common/cluster-events.js';

export class DemoWatch implements ClusterWatch {
  private readonly seen: ClusterEvent[] = [];
  private readonly listeners: ((event: ClusterEvent) => void)[] = [];

  publish(event: ClusterEvent): void {
    this.seen.push(event);
    for (const listener of this.listeners) listener(event);
  }

  eventsBefore(time: number, limit: number, windowMs: number): ClusterEvent[] {
    const before: ClusterEvent[] = [];
    for (let i = this.seen.length - 1; i >= 0 && before.length < limit; i--) {
      const event = this.seen[i]!;
      if (event.time <= time && event.time >= time - windowMs) before.push(event);
    }
    return before;
  }

  events(): ClusterEvent[] {
    return [...this.seen];
  }

  /** The demo's servers name themselves: no address needs mapping. */
  podForIp(): PodIdentity | undefined {
    return undefined;
  }

  onEvent(listener: (event: ClusterEvent) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {}
}

// What changed between two views of the same pod, endpoint set, node or event, as ClusterEvent
// records with one human phrase each. Pure: the watch feeds it records and the time it saw them.
import type { ClusterEvent, ClusterEventKind } from '../common/cluster-events.js';
import type { EndpointRecord, EventRecord, NodeRecord, PodRecord } from './records.js';

function event(time: number, kind: ClusterEventKind, subject: string, text: string): ClusterEvent {
  return { time, kind, subject, text };
}

function endpointEvent(time: number, kind: ClusterEventKind, record: EndpointRecord, text: string): ClusterEvent {
  const change = event(time, kind, record.address, text);
  if (record.pod !== undefined) change.pod = record.pod;
  return change;
}

export function podChanges(previous: PodRecord | undefined, next: PodRecord | undefined, time: number): ClusterEvent[] {
  if (!previous && !next) return [];
  if (!next) return [event(time, 'pod-deleted', previous!.name, `pod ${previous!.name} deleted`)];
  const name = next.name;
  if (!previous) {
    const changes = [event(time, 'pod-added', name, `pod ${name} added${next.node ? ` on node ${next.node}` : ''}`)];
    if (next.ready) changes.push(event(time, 'pod-ready', name, `pod ${name} became Ready`));
    if (next.terminating) changes.push(event(time, 'pod-terminating', name, `pod ${name} Terminating`));
    return changes;
  }
  const changes: ClusterEvent[] = [];
  if (next.terminating && !previous.terminating) changes.push(event(time, 'pod-terminating', name, `pod ${name} Terminating`));
  if (next.ready && !previous.ready) changes.push(event(time, 'pod-ready', name, `pod ${name} became Ready`));
  if (!next.ready && previous.ready) changes.push(event(time, 'pod-not-ready', name, `pod ${name} became NotReady`));
  return changes;
}

function endpointName(record: EndpointRecord): string {
  return record.pod ? `endpoint ${record.address} (${record.pod})` : `endpoint ${record.address}`;
}

/** Changes between two sets of endpoints, keyed by address (all of a Service's slices together). */
export function endpointChanges(
  previous: ReadonlyMap<string, EndpointRecord>,
  next: ReadonlyMap<string, EndpointRecord>,
  time: number,
): ClusterEvent[] {
  const changes: ClusterEvent[] = [];
  for (const [address, before] of previous) {
    if (!next.has(address)) changes.push(endpointEvent(time, 'endpoint-removed', before, `${endpointName(before)} removed`));
  }
  for (const [address, after] of next) {
    const before = previous.get(address);
    const name = endpointName(after);
    if (!before) {
      const state = after.terminating ? ' (terminating)' : after.ready ? '' : ' (not ready)';
      changes.push(endpointEvent(time, 'endpoint-added', after, `${name} added${state}`));
      continue;
    }
    if (after.terminating && !before.terminating) changes.push(endpointEvent(time, 'endpoint-terminating', after, `${name} terminating`));
    if (after.ready && !before.ready) changes.push(endpointEvent(time, 'endpoint-ready', after, `${name} became ready`));
    if (!after.ready && before.ready) changes.push(endpointEvent(time, 'endpoint-not-ready', after, `${name} became not ready`));
  }
  return changes;
}

export function nodeChanges(previous: NodeRecord | undefined, next: NodeRecord | undefined, time: number): ClusterEvent[] {
  if (!previous && !next) return [];
  if (!next) return [event(time, 'node-removed', previous!.name, `node ${previous!.name} removed`)];
  const name = next.name;
  if (!previous) {
    const changes = [event(time, 'node-added', name, `node ${name} added`)];
    if (next.ready) changes.push(event(time, 'node-ready', name, `node ${name} became Ready`));
    return changes;
  }
  if (next.ready && !previous.ready) return [event(time, 'node-ready', name, `node ${name} became Ready`)];
  if (!next.ready && previous.ready) return [event(time, 'node-not-ready', name, `node ${name} became NotReady`)];
  return [];
}

// An event message can be a paragraph (FailedScheduling lists every node); one line is enough.
const MAX_MESSAGE = 160;

export function eventChange(record: EventRecord, time: number): ClusterEvent {
  const message = record.message.length > MAX_MESSAGE ? `${record.message.slice(0, MAX_MESSAGE - 1)}…` : record.message;
  const text = `${record.type} ${record.reason} ${record.object}${message ? `: ${message}` : ''}`;
  return event(time, 'event', record.object, text);
}

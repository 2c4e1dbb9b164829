import t from 'tap';
import type { ClusterEvent, ClusterEventKind } from '../../common/cluster-events.js';
import { departureWords, isNodeDeparture, PodDepartures } from '../../client/pod-departures.js';

function event(time: number, kind: ClusterEventKind, subject: string, pod?: string): ClusterEvent {
  const change: ClusterEvent = { time, kind, subject, text: `${kind} ${subject}` };
  if (pod !== undefined) change.pod = pod;
  return change;
}

t.test('departedAt() of a pod whose endpoint was removed is that removal from its time on, and nothing before', async (t) => {
  const departures = new PodDepartures();
  const removed = event(10_000, 'endpoint-removed', '10.1.0.2', 'pod-b');
  departures.add(removed);
  t.equal(departures.departedAt('pod-b', 'node-2', 9_999), undefined);
  t.equal(departures.departedAt('pod-b', 'node-2', 10_000), removed);
  t.equal(departures.departedAt('pod-b', undefined, 50_000), removed);
  t.equal(departures.departedAt('pod-a', 'node-2', 50_000), undefined, 'another pod is not touched');
});

t.test('departedAt() ignores an endpoint event that names no pod, and events that take nobody out', async (t) => {
  const departures = new PodDepartures();
  departures.add(event(1, 'endpoint-removed', '10.1.0.9'));
  departures.add(event(2, 'pod-added', 'pod-b'));
  departures.add(event(3, 'event', 'pod/pod-b'));
  t.equal(departures.departedAt('10.1.0.9', undefined, 10), undefined);
  t.equal(departures.departedAt('pod-b', undefined, 10), undefined);
});

t.test('departedAt() is the latest of the events still holding the pod out', async (t) => {
  const departures = new PodDepartures();
  const terminating = event(1_000, 'pod-terminating', 'pod-b');
  const removed = event(3_000, 'endpoint-removed', '10.1.0.2', 'pod-b');
  departures.add(terminating);
  departures.add(removed);
  t.equal(departures.departedAt('pod-b', undefined, 2_000), terminating);
  t.equal(departures.departedAt('pod-b', undefined, 3_000), removed);
});

t.test('departedAt() clears each condition on its own: an endpoint ready again brings the pod back, a node Ready does not undo a removal', async (t) => {
  const departures = new PodDepartures();
  const notReady = event(1_000, 'endpoint-not-ready', '10.1.0.2', 'pod-b');
  departures.add(notReady);
  departures.add(event(2_000, 'endpoint-ready', '10.1.0.2', 'pod-b'));
  t.equal(departures.departedAt('pod-b', 'node-2', 1_500), notReady);
  t.equal(departures.departedAt('pod-b', 'node-2', 2_000), undefined);

  const nodeDown = event(3_000, 'node-not-ready', 'node-2');
  const removed = event(4_000, 'endpoint-removed', '10.1.0.2', 'pod-b');
  departures.add(nodeDown);
  departures.add(removed);
  departures.add(event(5_000, 'node-ready', 'node-2'));
  t.equal(departures.departedAt('pod-b', 'node-2', 3_500), nodeDown);
  t.equal(departures.departedAt('pod-b', 'node-9', 3_500), undefined, 'a pod on another node is not touched');
  t.equal(departures.departedAt('pod-b', 'node-2', 5_000), removed);
});

t.test('departedAt() keeps a deleted pod out when one of the same name is added, until it is Ready', async (t) => {
  const departures = new PodDepartures();
  const deleted = event(1_000, 'pod-deleted', 'pod-b');
  departures.add(deleted);
  departures.add(event(2_000, 'pod-added', 'pod-b'));
  t.equal(departures.departedAt('pod-b', undefined, 2_500), deleted);
  departures.add(event(3_000, 'pod-ready', 'pod-b'));
  t.equal(departures.departedAt('pod-b', undefined, 3_000), undefined);
});

t.test('add() puts an event that arrives late in its place by time', async (t) => {
  const departures = new PodDepartures();
  departures.add(event(2_000, 'endpoint-ready', '10.1.0.2', 'pod-b'));
  const notReady = event(1_000, 'endpoint-not-ready', '10.1.0.2', 'pod-b');
  departures.add(notReady);
  t.equal(departures.departedAt('pod-b', undefined, 1_500), notReady);
  t.equal(departures.departedAt('pod-b', undefined, 2_500), undefined);
});

t.test('departedWithin() is the first departure after `from` up to and including `to`', async (t) => {
  const departures = new PodDepartures();
  const first = event(1_300, 'endpoint-removed', '10.1.0.2', 'pod-b');
  const second = event(1_500, 'node-removed', 'node-2');
  departures.add(second);
  departures.add(first);
  t.equal(departures.departedWithin('pod-b', 'node-2', 1_000, 2_000), first);
  t.equal(departures.departedWithin('pod-b', 'node-2', 1_300, 2_000), second, 'the window excludes its start');
  t.equal(departures.departedWithin('pod-b', 'node-2', 1_000, 1_299), undefined);
  t.equal(departures.departedWithin('pod-b', 'node-2', 1_400, 1_500), second, 'and includes its end');
});

t.test('departureWords() and isNodeDeparture() say each kind the way the lines read it', async (t) => {
  const removed = { ...event(1, 'endpoint-removed', '10.1.0.2', 'pod-b'), kind: 'endpoint-removed' as const };
  const nodeDown = { ...event(1, 'node-not-ready', 'node-2'), kind: 'node-not-ready' as const };
  t.same(departureWords(removed), { short: 'removed', past: 'was removed from the Service', target: 'the removed pod' });
  t.same(departureWords(nodeDown), { short: 'NotReady', past: 'became NotReady', target: 'a pod on a NotReady node' });
  t.equal(isNodeDeparture(removed), false);
  t.equal(isNodeDeparture(nodeDown), true);
});

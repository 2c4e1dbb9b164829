import t from 'tap';
import type { ClusterEvent } from '../../common/cluster-events.js';
import { ClusterTimeline } from '../../kube/timeline.js';

function at(time: number, subject = `s${time}`): ClusterEvent {
  return { time, kind: 'event', subject, text: `at ${time}` };
}

t.test('eventsBefore() returns the events at or before the time, nearest first, within the window', async (t) => {
  const timeline = new ClusterTimeline();
  for (const time of [1_000, 2_000, 3_000, 4_000, 5_000]) timeline.add(at(time));
  t.same(timeline.eventsBefore(4_500, 10, 3_000).map((e) => e.time), [4_000, 3_000, 2_000], 'nothing after 4.5s, nothing before 1.5s');
  t.same(timeline.eventsBefore(4_000, 10, 0).map((e) => e.time), [4_000], 'an event at the very time counts');
  t.same(timeline.eventsBefore(5_000, 2, 60_000).map((e) => e.time), [5_000, 4_000], 'limit keeps the nearest');
  t.same(timeline.eventsBefore(500, 10, 60_000), [], 'nothing before the first event');
  t.same(timeline.eventsBefore(5_000, 0, 60_000), [], 'limit 0');
});

t.test('add() keeps time order when an event arrives late, and events() is oldest first', async (t) => {
  const timeline = new ClusterTimeline();
  timeline.add(at(1_000));
  timeline.add(at(3_000));
  timeline.add(at(2_000));
  timeline.add(at(3_000, 'second at 3s'));
  t.same(timeline.events().map((e) => e.subject), ['s1000', 's2000', 's3000', 'second at 3s']);
  t.same(timeline.eventsBefore(3_000, 1, 10).map((e) => e.subject), ['second at 3s'], 'the later of two at the same time is nearer');
});

t.test('a full timeline drops its oldest events and counts them', async (t) => {
  const timeline = new ClusterTimeline(3);
  for (const time of [1, 2, 3, 4, 5]) timeline.add(at(time));
  t.same(timeline.events().map((e) => e.time), [3, 4, 5]);
  t.equal(timeline.dropped, 2);
  const copy = timeline.events();
  copy.pop();
  t.equal(timeline.events().length, 3, 'events() is a copy');
});

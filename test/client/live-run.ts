import t from 'tap';
import { TypedEmitter, type ClientEvents } from '../../client/events.js';
import { LiveRun, stuckSessions } from '../../client/live-run.js';
import { RttHistogram } from '../../client/rtt-histogram.js';
import { IdentityRegistry } from '../../client/serving-identity.js';
import { emptyCounters } from '../../client/session.js';
import type { SessionFigures } from '../../client/stats.js';

const pod = new IdentityRegistry().named('pod-a', 'node-1');

function session(lastReplyAt: number | undefined): SessionFigures {
  return { lost: 0, pending: 0, identity: lastReplyAt === undefined ? undefined : pod, counters: { ...emptyCounters(), sent: 1, lastReplyAt } };
}

t.test('stuckSessions() counts sessions silent for 5s only while another session is answered', async (t) => {
  t.equal(stuckSessions([session(0), session(9_000), session(undefined)], 10_000), 1);
  t.equal(stuckSessions([session(0), session(4_000)], 10_000), 0, 'everything silent: an outage, not stuck sessions');
  t.equal(stuckSessions([session(5_000), session(9_999)], 10_000), 1, 'exactly 5s silent is stuck');
});

t.test('LiveRun.figures() reads the sessions once per turn and keeps the time of the last pod or address change', async (t) => {
  const events = new TypedEmitter<ClientEvents>(() => undefined);
  let now = 1_000;
  const sessions = [session(900)];
  const live = new LiveRun({ sessions, rtt: new RttHistogram(), events }, () => now);
  t.equal(live.startedAt, 1_000);
  t.strictSame(
    { ...live.figures(), totals: undefined },
    { now: 1_000, totals: undefined, pods: [{ label: 'pod-a', node: 'node-1', sessions: 1 }], stuck: 0, lastBreakAt: undefined },
  );
  events.emit('session', { type: 'loss-burst', time: 1_500, session: 1, consecutive: 3, silentMs: 3000 });
  events.emit('session', { type: 'address-change', time: 2_000, session: 1, from: 'a', to: 'b', silentMs: 0 });
  now = 3_000;
  t.equal(live.figures().now, 1_000, 'the same turn: the same figures');
  await new Promise(setImmediate);
  t.equal(live.figures().now, 3_000);
  t.equal(live.figures().lastBreakAt, 2_000, 'a loss burst is not a break; the address change is');
  t.equal(live.figures().totals.sent, 1);
});

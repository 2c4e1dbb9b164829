import t from 'tap';
import { ConnectionState, reconnectDelay } from '../../client/connection-state.js';

const policy = { enabled: true, maxAttempts: 3, backoffMs: 100 };

t.test('reconnectDelay() doubles per attempt and stops growing at 32 times the back-off', async (t) => {
  t.same([1, 2, 3, 6, 7, 20].map((n) => reconnectDelay(policy, n)), [100, 200, 400, 3200, 3200, 3200]);
});

t.test('a served connection that is reset is lost with its pod; the next one on another pod is a move, down until its first answer', async (t) => {
  const state = new ConnectionState(policy);
  state.opened(0);
  t.equal(state.answered('pod-a', 1000), undefined, 'the first connection is no reconnection');
  t.equal(state.answered('pod-a', 1100), undefined);
  const { loss, next } = state.ended('reset', 2000);
  t.same(loss, { time: 2000, pod: 'pod-a', end: 'reset' });
  t.same(next, { reconnectAt: 2100 });
  t.equal(state.phase, 'down');
  state.connecting();
  state.opened(0);
  t.same(state.answered('pod-b', 2350), { time: 2350, downMs: 350, from: 'pod-a', to: 'pod-b', moved: true });
  t.same(state.counters, { served: 2, lost: 1, lostBy: { reset: 1, closed: 0, timeout: 0, error: 0 }, refused: 0, reconnected: 1, moved: 1, downMs: 350, longestDownMs: 350 });
});

t.test('attempts that never answer are refused, back off, and the session gives up after maxAttempts in a row', async (t) => {
  const state = new ConnectionState(policy);
  t.same(state.ended('refused', 0).next, { reconnectAt: 100 });
  t.same(state.ended('refused', 100).next, { reconnectAt: 300 });
  t.same(state.ended('refused', 300).next, { reconnectAt: 700 });
  t.same(state.ended('refused', 700).next, { giveUp: { time: 700, attempts: 3, lastLoss: undefined } }, 'three reconnect attempts failed; none ever answered');
  t.equal(state.phase, 'given-up');
  t.equal(state.counters.refused, 4);
  t.equal(state.counters.lost, 0);
});

t.test('an open connection that never answered and then closes counts as refused, not lost', async (t) => {
  const state = new ConnectionState(policy);
  state.opened(0);
  t.equal(state.ended('closed', 10).loss, undefined);
  t.equal(state.counters.refused, 1);
});

t.test('without reconnect, a lost connection gives up at once', async (t) => {
  const state = new ConnectionState({ ...policy, enabled: false });
  state.opened(0);
  state.answered('pod-a', 5);
  t.same(state.ended('closed', 10).next, { giveUp: { time: 10, attempts: 0, lastLoss: { time: 10, pod: 'pod-a', end: 'closed' } } });
});

t.test('stalled() is true once the session counted a request lost since the connection opened', async (t) => {
  const state = new ConnectionState(policy);
  state.opened(4);
  t.equal(state.stalled(4), false);
  t.equal(state.stalled(5), true);
  state.ended('timeout', 0);
  t.equal(state.stalled(9), false, 'a connection that is down is not stalled');
});

t.test('a loss during a failed reconnection keeps the first loss time; finish() counts a session still down', async (t) => {
  const state = new ConnectionState(policy);
  state.opened(0);
  state.answered('pod-a', 0);
  state.ended('closed', 1000);
  state.opened(0);
  state.ended('closed', 1200);
  state.finish(3000);
  t.equal(state.counters.downMs, 2000);
  t.equal(state.counters.longestDownMs, 2000);
  t.equal(state.counters.reconnected, 0);
});

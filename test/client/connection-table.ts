import t from 'tap';
import { ConnectionTable, NO_POD } from '../../client/connection-table.js';

t.test('the table counts losses by pod and end, reconnections by the pod they landed on, and closes steps', async (t) => {
  const table = new ConnectionTable();
  table.lost({ time: 1, pod: 'pod-b', end: 'closed' });
  table.lost({ time: 1, pod: 'pod-b', end: 'reset' });
  table.lost({ time: 1, pod: undefined, end: 'timeout' });
  table.reconnected({ time: 2, downMs: 1, from: 'pod-b', to: 'pod-a', moved: true });
  t.same(table.step(10, { 'pod-a': 3 }), { time: 10, open: { 'pod-a': 3 }, lost: { 'pod-b': 2, [NO_POD]: 1 }, reconnected: { 'pod-a': 1 } });
  table.reconnected({ time: 12, downMs: 1, from: 'pod-b', to: 'pod-b', moved: false });
  t.same(table.step(20, { 'pod-a': 3, 'pod-b': 1 }), { time: 20, open: { 'pod-a': 3, 'pod-b': 1 }, lost: {}, reconnected: { 'pod-b': 1 } });
  t.same(table.pods(), [
    { pod: NO_POD, lost: 1, lostBy: { reset: 0, closed: 0, timeout: 1, error: 0 }, landed: 0, movedIn: 0 },
    { pod: 'pod-a', lost: 0, lostBy: { reset: 0, closed: 0, timeout: 0, error: 0 }, landed: 1, movedIn: 1 },
    { pod: 'pod-b', lost: 2, lostBy: { reset: 1, closed: 1, timeout: 0, error: 0 }, landed: 1, movedIn: 0 },
  ]);
  t.equal(table.steps.length, 2);
});

t.test('the table keeps at most maxSteps steps', async (t) => {
  const table = new ConnectionTable(1);
  table.step(1, {});
  table.step(2, {});
  t.same(table.steps.map((s) => s.time), [1]);
});

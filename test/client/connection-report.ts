import t from 'tap';
import { connectionReportOf } from '../../client/connection-report.js';
import { ConnectionState } from '../../client/connection-state.js';
import { ConnectionTable } from '../../client/connection-table.js';
import type { Session } from '../../client/session.js';

t.test('connectionReportOf() sums the sessions, lists only those that lost, were refused or gave up, and rounds the times', async (t) => {
  const policy = { enabled: true, maxAttempts: 1, backoffMs: 10 };
  const steady = new ConnectionState(policy);
  steady.opened(0);
  steady.answered('pod-a', 0);
  const moved = new ConnectionState(policy);
  moved.opened(0);
  moved.answered('pod-a', 0);
  moved.ended('reset', 1000);
  moved.opened(0);
  moved.answered('pod-b', 1100.12345);
  const refused = new ConnectionState(policy);
  refused.ended('refused', 0);
  refused.ended('refused', 10);
  const table = new ConnectionTable();
  table.step(Date.parse('2026-11-22T14:00:00Z'), { 'pod-a': 1 });
  const sessions = [1, 2, 3].map((number) => ({ number }) as Session);
  const report = connectionReportOf({ sessions, states: [steady, moved, refused], table, retransmissions: null });
  t.same(report.totals, { served: 3, lost: 1, lostBy: { reset: 1, closed: 0, timeout: 0, error: 0 }, refused: 2, reconnected: 1, moved: 1, downMs: 100.123, longestDownMs: 100.123, gaveUp: 1 });
  t.same(report.sessions.map((s) => [s.session, s.lost, s.refused, s.gaveUp, s.downMs]), [
    [2, 1, 0, false, 100.123],
    [3, 0, 2, true, 0],
  ]);
  t.same(report.steps, [{ time: '2026-11-22T14:00:00.000Z', open: { 'pod-a': 1 }, lost: {}, reconnected: {} }]);
  t.equal(report.retransmissions, null);
});

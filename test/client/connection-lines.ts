import t from 'tap';
import { Chalk } from 'chalk';
import { connectionLossLine, connectionStepLine, connectionSummaryLines, giveUpLine, reconnectionLine } from '../../client/connection-lines.js';
import type { ReportConnections } from '../../client/connection-report.js';

const plain = new Chalk({ level: 0 });
const T = Date.parse('2026-11-22T14:03:20.512Z');

t.test('connectionLossLine() names the pod and how the connection ended', async (t) => {
  t.equal(connectionLossLine(17, { time: T, pod: 'pod-b', end: 'closed' }, plain), '14:03:20.512 session 17 connection lost on pod-b: closed by the server');
  t.equal(connectionLossLine(3, { time: T, pod: undefined, end: 'timeout' }, plain), '14:03:20.512 session 3 connection lost on no pod yet: no answer within --timeout while open');
});

t.test('reconnectionLine() says how long the session was down and whether it moved', async (t) => {
  t.equal(reconnectionLine(17, { time: T, downMs: 128, from: 'pod-b', to: 'pod-c', moved: true }, plain), '14:03:20.512 session 17 reconnected after 128ms on another pod: pod-b -> pod-c');
  t.equal(reconnectionLine(17, { time: T, downMs: 128, from: 'pod-b', to: 'pod-b', moved: false }, plain), '14:03:20.512 session 17 reconnected after 128ms on pod-b again');
});

t.test('giveUpLine() says why the session stopped reconnecting and since when it has been down', async (t) => {
  const lastLoss = { time: T - 51_200, pod: 'pod-b', end: 'reset' } as const;
  t.equal(giveUpLine(17, { time: T, attempts: 10, lastLoss }, plain), '14:03:20.512 session 17 GAVE UP after 10 reconnect attempts in a row: down 51.2s, last on pod-b');
  t.equal(giveUpLine(17, { time: T, attempts: 0, lastLoss }, plain), '14:03:20.512 session 17 stays down (--no-reconnect): down 51.2s, last on pod-b');
  t.equal(giveUpLine(3, { time: T, attempts: 10, lastLoss: undefined }, plain), '14:03:20.512 session 3 GAVE UP after 10 reconnect attempts in a row: no connection ever answered');
});

t.test('connectionStepLine() lists the pods in order, `none` for an empty column', async (t) => {
  t.equal(
    connectionStepLine({ time: T, open: { 'pod-c': 66, 'pod-a': 34 }, lost: { 'pod-b': 33 }, reconnected: {} }, plain),
    '14:03:20.512 connections open pod-a 34 | pod-c 66  lost pod-b 33  reconnected none',
  );
});

t.test('connectionSummaryLines() gives the totals, the time down, a row per pod and the retransmissions', async (t) => {
  const report: ReportConnections = {
    totals: { served: 100, lost: 33, lostBy: { reset: 1, closed: 32, timeout: 0, error: 0 }, refused: 2, reconnected: 33, moved: 32, downMs: 4220, longestDownMs: 140, gaveUp: 1 },
    pods: [{ pod: 'pod-b', lost: 33, lostBy: { reset: 1, closed: 32, timeout: 0, error: 0 }, landed: 1, movedIn: 0 }],
    steps: [],
    sessions: [],
    retransmissions: { retransSegs: 12, timeouts: 3 },
  };
  t.same(connectionSummaryLines(report), [
    '  connections     100 served, 33 lost (1 reset, 32 closed by the server, 0 timed out, 0 errors), 33 reconnected (32 on another pod), 2 attempts refused or never answered, 1 sessions gave up',
    '  down            4.22s in all, longest 140ms',
    '    pod-b                    lost 33  reconnected here 1 (0 from another pod)',
    '  retransmissions 12 TCP segments on this host during the run (3 retransmission timeouts)',
  ]);
  t.same(connectionSummaryLines({ ...report, totals: { ...report.totals, lost: 0 }, pods: [], retransmissions: null }).slice(1), ['  down            never']);
});

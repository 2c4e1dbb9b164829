import t from 'tap';
import { connectionStepsTable, type ConnectionStepRow } from './lib/connection-steps.js';

const T0 = Date.UTC(2026, 10, 30, 1, 0, 0);
const at = (ms: number) => new Date(T0 + ms).toISOString();

t.test('connectionStepsTable() gives a column per pod with its open connections, then what was lost and where it reconnected, timed from the first step', async (t) => {
  const steps: ConnectionStepRow[] = [
    { time: at(1000), open: { 'pod-1': 3, 'pod-2': 2 }, lost: {}, reconnected: {} },
    { time: at(2000), open: { 'pod-2': 3, 'pod-4': 2 }, lost: { 'pod-1': 3 }, reconnected: { 'pod-4': 2, 'pod-2': 1 } },
  ];
  t.strictSame(connectionStepsTable(steps, ['pod-1', 'pod-2', 'pod-4']), [
    ' t (s)  pod-1  pod-2  pod-4  lost     reconnected',
    '   0.0      3      2      0  -        -',
    '   1.0      0      3      2  pod-1 3  pod-2 1, pod-4 2',
  ]);
});

t.test('connectionStepsTable() of no steps is the header alone', async (t) => {
  t.strictSame(connectionStepsTable([], ['pod-1']), [' t (s)  pod-1  lost  reconnected']);
});

import t from 'tap';
import { changesPart, fitWidth, formatElapsed, podBar, progressBar, statusLine, type StatusSnapshot } from '../../client/status-line.js';

const T0 = 1_000_000;
const base: StatusSnapshot = {
  startedAt: T0,
  established: 98,
  active: 100,
  sent: 1000,
  lost: 5,
  pending: 0,
  podChanges: 3,
  addressChanges: 1,
  pods: [
    { label: 'pod-a', sessions: 50 },
    { label: 'pod-b', sessions: 25 },
    { label: 'pod-c', sessions: 23 },
  ],
  lastBreakAt: T0 + 60_000,
};

t.test('formatElapsed() writes minutes and seconds, hours when there are some', async (t) => {
  t.equal(formatElapsed(7_999), '0:07');
  t.equal(formatElapsed(725_000), '12:05');
  t.equal(formatElapsed(3_723_000), '1:02:03');
  t.equal(formatElapsed(-5), '0:00');
});

t.test('progressBar() fills its share of ten marks, never more', async (t) => {
  t.equal(progressBar(0), '[..........]');
  t.equal(progressBar(0.34), '[###.......]');
  t.equal(progressBar(1.5), '[##########]');
});

t.test('podBar() gives each pod its share of the bar, at least one mark each', async (t) => {
  t.equal(podBar(base.pods), '[aaaaaabbbccc]');
  t.equal(podBar([{ label: 'x', sessions: 99 }, { label: 'y', sessions: 1 }]), '[aaaaaaaaaaab]');
  t.equal(podBar([]), '[]');
  const many = Array.from({ length: 20 }, (_, i) => ({ label: `p${i}`, sessions: 1 }));
  t.equal(podBar(many), '[abcdefghijkl]', 'twelve pods fill twelve marks; the rest are counted in front of it');
});

t.test('changesPart() shows pod and address changes, or the classes once they are fed in', async (t) => {
  t.equal(changesPart(base), 'changes pod 3 addr 1');
  t.equal(changesPart({ ...base, changeClasses: { expected: 2, violation: 1, stuck: 0 } }), 'changes expected 2 violation 1 stuck 0');
});

t.test('statusLine() with --duration shows the progress and the time left', async (t) => {
  t.equal(
    statusLine({ ...base, durationMs: 600_000 }, 160, T0 + 65_000),
    '1:05 [#.........] 8:55 left | sessions 98/100 | loss 0.500% | changes pod 3 addr 1 | pods 3 [aaaaaabbbccc] | last break 0:05 ago',
  );
});

t.test('statusLine() until Ctrl-C shows the elapsed time, and says when nothing broke yet', async (t) => {
  t.equal(
    statusLine({ ...base, lastBreakAt: undefined, podChanges: 0, addressChanges: 0 }, 160, T0 + 3_000),
    '0:03 | sessions 98/100 | loss 0.500% | changes pod 0 addr 0 | pods 3 [aaaaaabbbccc] | no break',
  );
});

t.test('statusLine() is cut one column short of the width, never wrapped', async (t) => {
  const line = statusLine({ ...base, durationMs: 600_000 }, 80, T0 + 65_000);
  t.equal(line, '1:05 [#.........] 8:55 left | sessions 98/100 | loss 0.500% | changes pod 3 add');
  t.equal(line.length, 79);
  t.equal(fitWidth('abc', 1), '');
  t.equal(fitWidth('abc', 0), '');
});

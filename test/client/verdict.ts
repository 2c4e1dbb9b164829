import t from 'tap';
import { exitCodeOf, formatPercent, verdictOf } from '../../client/verdict.js';

const limits = { maxLoss: 1, maxPodChanges: 0, maxAddressChanges: 0 };

t.test('verdictOf() a run within every limit passes with exit code 0', async (t) => {
  const verdict = verdictOf({ lossPercent: 1, lost: 10, podChanges: 0, addressChanges: 0 }, limits);
  t.same(verdict, { passed: true, broken: [] });
  t.equal(exitCodeOf(verdict), 0);
});

t.test('verdictOf() names every broken limit and gives exit code 1', async (t) => {
  const verdict = verdictOf({ lossPercent: 2.5, lost: 25, podChanges: 3, addressChanges: 1 }, limits);
  t.equal(verdict.passed, false);
  t.equal(verdict.broken.length, 3);
  t.match(verdict.broken[0], /loss 2\.50% \(25 lost\) is above --max-loss 1%/);
  t.match(verdict.broken[1], /3 pod changes \(--max-pod-changes 0\)/);
  t.match(verdict.broken[2], /1 address change \(--max-address-changes 0\)/);
  t.equal(exitCodeOf(verdict), 1);
});

t.test('verdictOf() allows changes up to the limits', async (t) => {
  const verdict = verdictOf({ lossPercent: 0, lost: 0, podChanges: 2, addressChanges: 2 }, { maxLoss: 0, maxPodChanges: 2, maxAddressChanges: 2 });
  t.equal(verdict.passed, true);
});

t.test('formatPercent() shows a single loss in a large run', async (t) => {
  t.equal(formatPercent(0), '0%');
  t.equal(formatPercent(0.001), '0.0010%');
  t.equal(formatPercent(0.5), '0.500%');
  t.equal(formatPercent(12.345), '12.35%');
});

import t from 'tap';
import { totalsOf } from '../../client/stats.js';
import { affinityVerdictOf, runVerdictOf, DEFAULT_MAX_STUCK, DEFAULT_MAX_VIOLATIONS, exitCodeOf, formatPercent, limitsText, type AffinityLimits } from '../../client/verdict.js';

const defaults: AffinityLimits = { maxLoss: 1, maxViolations: DEFAULT_MAX_VIOLATIONS, maxStuck: DEFAULT_MAX_STUCK };
const clean = { lossPercent: 0, lost: 0, violations: 0, stuck: 0, podChanges: 0, addressChanges: 0 };

t.test('affinityVerdictOf() passes a scale-down: expected moves and their address changes fail nothing by default', async (t) => {
  const verdict = affinityVerdictOf({ ...clean, podChanges: 120, addressChanges: 120 }, defaults);
  t.same(verdict, { passed: true, broken: [] });
  t.equal(exitCodeOf(verdict), 0);
});

t.test('affinityVerdictOf() fails on one violation by default and says what a violation is', async (t) => {
  t.same(affinityVerdictOf({ ...clean, violations: 1, podChanges: 1 }, defaults), {
    passed: false,
    broken: ['1 violation: sessions moved off a pod still in the Service (--max-violations 0)'],
  });
  t.equal(exitCodeOf(affinityVerdictOf({ ...clean, violations: 1 }, defaults)), 1);
});

t.test('affinityVerdictOf() fails on a stuck session by default', async (t) => {
  t.same(affinityVerdictOf({ ...clean, stuck: 2 }, defaults).broken, ['2 stuck sessions: unanswered while the Service answered others (--max-stuck 0)']);
});

t.test('affinityVerdictOf() allows violations and stuck sessions up to their limits', async (t) => {
  t.equal(affinityVerdictOf({ ...clean, violations: 3, stuck: 1 }, { ...defaults, maxViolations: 3, maxStuck: 1 }).passed, true);
});

t.test('affinityVerdictOf() keeps --max-loss, and the change limits only when they are set', async (t) => {
  const run = { ...clean, lossPercent: 2.5, lost: 25, violations: 2, stuck: 1, podChanges: 3, addressChanges: 1 };
  t.same(affinityVerdictOf(run, { ...defaults, maxPodChanges: 2, maxAddressChanges: 0 }).broken, [
    '2 violations: sessions moved off a pod still in the Service (--max-violations 0)',
    '1 stuck session: unanswered while the Service answered others (--max-stuck 0)',
    'loss 2.50% (25 lost) is above --max-loss 1%',
    '3 pod changes (--max-pod-changes 2)',
    '1 address change (--max-address-changes 0)',
  ]);
  t.same(affinityVerdictOf({ ...run, violations: 0, stuck: 0, lossPercent: 0, lost: 0 }, defaults), { passed: true, broken: [] });
});

t.test('limitsText() names the limits that decide, and the optional ones only when set', async (t) => {
  t.equal(limitsText(defaults), '--max-loss 1%, --max-violations 0, --max-stuck 0');
  t.equal(limitsText({ ...defaults, maxPodChanges: 5, maxAddressChanges: 0 }), '--max-loss 1%, --max-violations 0, --max-stuck 0, --max-pod-changes 5, --max-address-changes 0');
});

t.test('formatPercent() shows a single loss in a large run', async (t) => {
  t.equal(formatPercent(0), '0%');
  t.equal(formatPercent(0.001), '0.0010%');
  t.equal(formatPercent(0.5), '0.500%');
  t.equal(formatPercent(12.345), '12.35%');
});

t.test('runVerdictOf() judges a run by its totals (loss of the settled requests only) and its classified breaks', async (t) => {
  const totals = { ...totalsOf([]), sent: 104, pending: 4, lost: 2, podChanges: 3, addressChanges: 1 };
  const limits = { ...defaults, maxLoss: 1.5, maxPodChanges: 2 };
  t.same(runVerdictOf(totals, { violations: 1, stuck: 0 }, limits), affinityVerdictOf({ lossPercent: 2, lost: 2, violations: 1, stuck: 0, podChanges: 3, addressChanges: 1 }, limits));
  t.equal(runVerdictOf(totals, { violations: 1, stuck: 0 }, limits).broken.length, 3, 'violations, loss and pod changes');
});

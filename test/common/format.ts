import t from 'tap';
import { parseDuration } from '../../common/duration.js';
import { formatDuration, formatExactDuration, formatMs, formatPercent, plural, roundMs } from '../../common/format.js';

t.test('roundMs() keeps three decimals (the microsecond) and turns undefined into null', async (t) => {
  t.equal(roundMs(1.23456), 1.235);
  t.equal(roundMs(0.0004), 0);
  t.equal(roundMs(12), 12);
  t.equal(roundMs(undefined), null);
});

t.test('formatDuration() picks a short unit', async (t) => {
  t.equal(formatDuration(0), '0ms');
  t.equal(formatDuration(850), '850ms');
  t.equal(formatDuration(2400), '2.40s');
  t.equal(formatDuration(12_340), '12.3s');
  t.equal(formatDuration(185_000), '3m05s');
  t.equal(formatDuration(3_720_000), '1h02m');
  t.equal(formatDuration(999.7), '1.00s', 'rounding up to a second moves to seconds');
  t.equal(formatDuration(9_999), '10.0s', 'rounding up to ten seconds drops a decimal');
  t.equal(formatDuration(59_999), '1m00s', 'rounding up to a minute moves to minutes');
});

t.test('formatExactDuration() prints whole seconds in s, anything else in ms, and parses back unchanged', async (t) => {
  t.equal(formatExactDuration(10_000), '10s');
  t.equal(formatExactDuration(0), '0s');
  t.equal(formatExactDuration(1500), '1500ms');
  t.equal(formatExactDuration(200), '200ms');
  for (const ms of [0, 1, 200, 1500, 10_000, 90_000, 3_600_000]) t.equal(parseDuration(formatExactDuration(ms)), ms, `${ms} ms`);
});

t.test('formatMs() shows sub-millisecond RTTs with two decimals, tens with one, then formatDuration()', async (t) => {
  t.equal(formatMs(null), '-');
  t.equal(formatMs(undefined), '-');
  t.equal(formatMs(0.421), '0.42ms');
  t.equal(formatMs(55.55), '55.5ms');
  t.equal(formatMs(250), '250ms');
  t.equal(formatMs(2400), '2.40s');
});

t.test('formatPercent() shows a single loss in a large run', async (t) => {
  t.equal(formatPercent(0), '0%');
  t.equal(formatPercent(0.001), '0.0010%');
  t.equal(formatPercent(0.5), '0.500%');
  t.equal(formatPercent(12.345), '12.35%');
  t.equal(formatPercent(100), '100.00%');
});

t.test('plural() adds an "s" to every count but one', async (t) => {
  t.equal(plural(0, 'violation'), '0 violations');
  t.equal(plural(1, 'violation'), '1 violation');
  t.equal(plural(57, 'other session'), '57 other sessions');
});

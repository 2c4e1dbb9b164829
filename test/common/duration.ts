import t from 'tap';
import { formatDuration, parseDuration } from '../../common/duration.js';

t.test('parseDuration() reads a number with a unit', async (t) => {
  t.equal(parseDuration('200ms'), 200);
  t.equal(parseDuration('10s'), 10_000);
  t.equal(parseDuration('5m'), 300_000);
  t.equal(parseDuration('1h'), 3_600_000);
  t.equal(parseDuration('1.5s'), 1500);
  t.equal(parseDuration('.5s'), 500);
  t.equal(parseDuration(' 3 m '), 180_000);
});

t.test('parseDuration() of a bare number reads seconds', async (t) => {
  t.equal(parseDuration('30'), 30_000);
  t.equal(parseDuration('0'), 0);
});

t.test('parseDuration() of anything else returns undefined', async (t) => {
  for (const text of ['', 's', '-1s', '1d', '1 2s', '1e3', 'ten', '1.s', '5min']) t.equal(parseDuration(text), undefined, JSON.stringify(text));
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

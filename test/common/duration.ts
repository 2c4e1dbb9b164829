import t from 'tap';
import { parseDuration } from '../../common/duration.js';

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

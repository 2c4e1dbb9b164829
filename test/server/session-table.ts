import t from 'tap';
import { SessionTable } from '../../server/session-table.js';

t.test('count() counts requests per session, starting at 1', async (t) => {
  const table = new SessionTable();
  t.equal(table.count(1, 0), 1);
  t.equal(table.count(1, 10), 2);
  t.equal(table.count(2, 20), 1);
  t.equal(table.count(1, 30), 3);
  t.equal(table.size, 2);
});

t.test('a session silent for longer than the idle timeout counts from 1 again', async (t) => {
  const table = new SessionTable({ idleMs: 1000 });
  t.equal(table.count(7, 0), 1);
  t.equal(table.count(7, 1000), 2, 'exactly the timeout is still the same session');
  t.equal(table.count(7, 2001), 1);
});

t.test('activeCount() counts only sessions heard from within the idle timeout', async (t) => {
  const table = new SessionTable({ idleMs: 1000 });
  table.count(1, 0);
  table.count(2, 500);
  table.count(3, 900);
  t.equal(table.activeCount(900), 3);
  t.equal(table.activeCount(1200), 2);
  t.equal(table.activeCount(5000), 0);
});

t.test('idle sessions are swept from memory within two idle timeouts', async (t) => {
  const table = new SessionTable({ idleMs: 1000 });
  for (let id = 0; id < 100; id++) table.count(id, 0);
  table.count(1000, 1000);
  table.count(1000, 2000);
  t.equal(table.size, 1, 'only the live session is held');
  t.equal(table.count(1000, 2500), 3, 'and it kept its count');
});

t.test('a flood of fresh session ids never holds more than maxEntries', async (t) => {
  const table = new SessionTable({ maxEntries: 1000, idleMs: 60_000 });
  let largest = 0;
  for (let id = 0; id < 100_000; id++) {
    table.count(1e9 + id, id / 100);
    largest = Math.max(largest, table.size);
  }
  t.equal(largest, 1000, 'the table fills up to maxEntries and no further');
});

t.test('a session that keeps talking survives a flood of fresh ids that is not too fast', async (t) => {
  // The young generation holds 500; a live session that sends at least once every 400 fresh
  // ids is always found in young or old, so its counter is never reset.
  const table = new SessionTable({ maxEntries: 1000, idleMs: 60_000 });
  const counts: number[] = [];
  for (let id = 0; id < 50_000; id++) {
    if (id % 400 === 0) counts.push(table.count(42, id));
    table.count(1e9 + id, id);
  }
  t.same(counts, Array.from({ length: 125 }, (_, i) => i + 1));
});

t.test('the oldest sessions are the ones evicted when the table is full', async (t) => {
  const table = new SessionTable({ maxEntries: 10, idleMs: 60_000 });
  for (let id = 0; id < 10; id++) table.count(id, 0);
  for (let id = 10; id < 15; id++) table.count(id, 0);
  t.equal(table.count(0, 1), 1, 'session 0 (oldest) was evicted: it starts again');
  t.equal(table.count(14, 1), 2, 'session 14 (newest) is still there');
});

t.test('SessionTable with a nonsensical size or timeout throws RangeError', async (t) => {
  t.throws(() => new SessionTable({ maxEntries: 1 }), RangeError);
  t.throws(() => new SessionTable({ idleMs: 0 }), RangeError);
});

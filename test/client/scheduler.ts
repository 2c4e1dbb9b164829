import t from 'tap';
import { DueHeap, DueList, Scheduler, startOffsets } from '../../client/scheduler.js';

t.test('startOffsets() spreads sessions evenly over the ramp, or over one interval without a ramp', async (t) => {
  t.same([...startOffsets(4, 1000, 100)], [0, 250, 500, 750]);
  t.same([...startOffsets(4, 0, 100)], [0, 25, 50, 75]);
});

t.test('DueHeap pops session indices in order of their due time', async (t) => {
  const due = new Float64Array([50, 10, 30, 20, 40, 10]);
  const heap = new DueHeap(due.length, due);
  for (let i = 0; i < due.length; i++) heap.push(i);
  const order: number[] = [];
  for (let i = heap.pop(); i !== undefined; i = heap.pop()) order.push(due[i]!);
  t.same(order, [10, 10, 20, 30, 40, 50]);
  t.equal(heap.peek(), undefined);
});

/** Every (session, time) a DueList sends at, stepping time by 1 ms from `start` to `end`. */
function sendsOver(list: DueList, start: number, end: number): [number, number][] {
  const sends: [number, number][] = [];
  for (let now = start; now <= end; now++) for (const index of list.due(now)) sends.push([index, now]);
  return sends;
}

t.test('DueList.due() sends each session exactly once per interval, at its own phase, and never early', async (t) => {
  const list = new DueList(4, 40, 40, 1000);
  t.equal(list.nextAt(), 1000);
  t.strictSame(list.due(999), [], 'nothing before the start');
  const sends = sendsOver(list, 1000, 1119);
  const expected: [number, number][] = [];
  for (let k = 0; k < 3; k++) for (let i = 0; i < 4; i++) expected.push([i, 1000 + i * 10 + k * 40]);
  t.strictSame(sends, expected, 'session i at 1000 + 10i + 40k, nothing else');
  t.equal(list.nextAt(), 1120);
  t.equal(list.lag.count, 12);
  t.equal(list.lag.max, 0, 'stepping every millisecond, nothing is late');
  t.equal(list.skipped, 0);
});

t.test('DueList.due() returns every session due at once, in due order, and records how late each is', async (t) => {
  const list = new DueList(3, 100, 30, 0);
  t.strictSame(list.due(25), [0, 1, 2]);
  t.equal(list.lag.max, 25, 'session 0 was due at 0');
  t.equal(list.lag.count, 3);
  t.equal(list.nextAt(), 100);
});

t.test('DueList.due() skips, instead of bursting, the requests a stalled process missed', async (t) => {
  const list = new DueList(1, 10, 0, 1000);
  t.strictSame(list.due(1000), [0]);
  t.strictSame(list.due(1080), [0], 'one request after a stall of 8 intervals, not 8');
  t.equal(list.skipped, 7, 'the ones due at 1020 ... 1080');
  t.equal(list.nextAt(), 1090, 'the session keeps its phase');
  t.strictSame(list.due(1089), []);
  t.strictSame(list.due(1090), [0]);
});

t.test('Scheduler sends what the DueList says at the time its clock reads, and nothing after stop()', async (t) => {
  let now = 1000;
  const sends: [number, number][] = [];
  let sent: () => void = () => undefined;
  const scheduler = new Scheduler({
    count: 4,
    intervalMs: 40,
    rampMs: 40,
    clock: () => now,
    onDue: (index, at) => {
      sends.push([index, at]);
      sent();
    },
  });
  const nextSend = (): Promise<void> => new Promise((resolve) => (sent = resolve));
  let first = nextSend();
  scheduler.start(1000);
  await first;
  t.strictSame(sends, [[0, 1000]], 'session 0 at once, the others later on the clock');
  now = 1040;
  first = nextSend();
  await first;
  await new Promise((resolve) => setImmediate(resolve));
  t.strictSame(sends, [[0, 1000], [1, 1040], [2, 1040], [3, 1040], [0, 1040]], 'all due at 1040 in one tick');
  t.equal(scheduler.lag.count, 5);
  t.equal(scheduler.lag.max, 30, 'session 1 was due at 1010');
  scheduler.stop();
  now = 2000;
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(sends.length, 5, 'nothing after stop()');
});

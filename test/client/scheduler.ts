import t from 'tap';
import { DueHeap, Scheduler, startOffsets } from '../../client/scheduler.js';
import { performance } from 'node:perf_hooks';

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

t.test('Scheduler sends each session once per interval at its own phase and measures the lag', async (t) => {
  const sends: [number, number][] = [];
  const now = (): number => performance.now();
  const scheduler = new Scheduler({ count: 4, intervalMs: 40, rampMs: 40, now, onDue: (i, at) => sends.push([i, at]) });
  const start = now();
  scheduler.start(start);
  await new Promise((r) => setTimeout(r, 190));
  scheduler.stop();
  const perSession = [0, 1, 2, 3].map((i) => sends.filter(([s]) => s === i).map(([, at]) => at));
  for (const [i, times] of perSession.entries()) {
    t.ok(times.length >= 2 && times.length <= 5, `session ${i} sent ${times.length} times`);
    t.ok(times[0]! >= start + i * 10, 'never before its phase');
  }
  t.equal(scheduler.lag.count, sends.length);
  t.ok(scheduler.lag.percentile(50)! < 100, 'requests go out about on time');
  const count = sends.length;
  await new Promise((r) => setTimeout(r, 60));
  t.equal(sends.length, count, 'nothing after stop()');
});

t.test('Scheduler skips, instead of bursting, the requests a stalled process missed', async (t) => {
  let sends = 0;
  const scheduler = new Scheduler({ count: 1, intervalMs: 10, rampMs: 0, now: () => performance.now(), onDue: () => sends++ });
  scheduler.start(performance.now());
  const until = performance.now() + 80;
  while (performance.now() < until) {
    // a stall of 8 intervals
  }
  await new Promise((r) => setTimeout(r, 5));
  scheduler.stop();
  t.ok(sends <= 3, `${sends} sends after the stall`);
  t.ok(scheduler.skipped >= 5);
});

import t from 'tap';
import { pollUntil } from '../../kube/poll.js';

/** A clock that only moves when the fake sleep is called, and a record of the pauses asked for. */
function fakeTime(start = 1_000) {
  const time = { now: start, pauses: [] as number[] };
  return {
    time,
    clock: () => time.now,
    sleep: async (ms: number) => {
      time.pauses.push(ms);
      time.now += ms;
    },
  };
}

t.test('pollUntil() returns the first value an attempt gives, reporting each wait before it', async (t) => {
  const { time, clock, sleep } = fakeTime();
  const answers = [undefined, undefined, 'ready'];
  const waits: number[] = [];
  const value = await pollUntil({
    attempt: async () => answers.shift(),
    timeoutMs: 10_000,
    intervalMs: 2_000,
    onWaiting: (elapsed) => waits.push(elapsed),
    timedOut: () => new Error('timed out'),
    clock,
    sleep,
  });
  t.equal(value, 'ready');
  t.same(waits, [0, 2_000]);
  t.same(time.pauses, [2_000, 2_000]);
});

t.test('pollUntil() shortens the last pause to the deadline, then throws timedOut()', async (t) => {
  const { time, clock, sleep } = fakeTime();
  let attempts = 0;
  const error = await pollUntil({
    attempt: async () => {
      attempts++;
      return undefined;
    },
    timeoutMs: 5_000,
    intervalMs: 2_000,
    timedOut: () => new Error('no address after 5s'),
    clock,
    sleep,
  }).catch((e: unknown) => e);
  t.same(time.pauses, [2_000, 2_000, 1_000]);
  t.equal(attempts, 4, 'one more try at the deadline');
  t.equal((error as Error).message, 'no address after 5s');
});

t.test('pollUntil() stopped by its signal throws stopped()', async (t) => {
  const controller = new AbortController();
  const error = await pollUntil({
    attempt: async () => {
      controller.abort();
      return undefined;
    },
    timeoutMs: 60_000,
    intervalMs: 30_000,
    timedOut: () => new Error('timed out'),
    signal: controller.signal,
    stopped: () => new Error('stopped waiting'),
  }).catch((e: unknown) => e);
  t.equal((error as Error).message, 'stopped waiting');
});

t.test('pollUntil() passes an error from an attempt through at once', async (t) => {
  const { time, clock, sleep } = fakeTime();
  const error = await pollUntil({
    attempt: async () => {
      throw new Error('forbidden');
    },
    timeoutMs: 5_000,
    intervalMs: 1_000,
    timedOut: () => new Error('timed out'),
    clock,
    sleep,
  }).catch((e: unknown) => e);
  t.equal((error as Error).message, 'forbidden');
  t.same(time.pauses, []);
});

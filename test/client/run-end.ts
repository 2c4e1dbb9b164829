import t from 'tap';
import { RunEnd } from '../../client/run-end.js';

t.test('until() resolves false at the planned duration, and true at once when the signal aborts', async (t) => {
  const end = new RunEnd();
  t.equal(await end.until(1, undefined), false);
  const controller = new AbortController();
  const waiting = end.until(undefined, controller.signal);
  controller.abort();
  t.equal(await waiting, true);
  t.equal(await end.until(60_000, controller.signal), true, 'an aborted signal ends it before it starts');
});

t.test('untilAnswered() resolves as soon as every reply in flight is answered, without waiting for the timeout', async (t) => {
  const end = new RunEnd();
  const waiting = end.untilAnswered(2, 60_000, undefined);
  end.answered();
  let settled = false;
  void waiting.then(() => (settled = true));
  await Promise.resolve();
  t.equal(settled, false, 'one of two answered: still waiting');
  end.answered();
  t.equal(await waiting, false);
});

t.test('untilAnswered() resolves at the timeout when replies stay missing, true when the signal aborts, and at once with none in flight', async (t) => {
  const end = new RunEnd();
  t.equal(await end.untilAnswered(3, 1, undefined), false);
  t.equal(await end.untilAnswered(0, 60_000, undefined), false);
  const controller = new AbortController();
  const waiting = end.untilAnswered(1, 60_000, controller.signal);
  controller.abort();
  t.equal(await waiting, true);
  end.answered(); // after the wait: ignored
});

t.test('wait() at the planned end stops the sending, says how many replies it waits for, then waits for them', async (t) => {
  const end = new RunEnd();
  const steps: string[] = [];
  let drained!: () => void;
  const draining = new Promise<void>((resolve) => (drained = resolve));
  const waiting = end.wait(
    { durationMs: 1, timeoutMs: 60_000 },
    { stop: () => steps.push('stop'), inFlight: () => 1, draining: (n) => (steps.push(`draining ${n}`), drained()) },
  );
  await draining;
  t.same(steps, ['stop', 'draining 1'], 'the scheduler stops before the drain');
  end.answered();
  t.equal(await waiting, false);
});

t.test('wait() on Ctrl-C stops the sending and leaves the replies in flight pending, without a drain', async (t) => {
  const end = new RunEnd();
  const steps: string[] = [];
  const controller = new AbortController();
  const waiting = end.wait({ timeoutMs: 60_000, signal: controller.signal }, { stop: () => steps.push('stop'), inFlight: () => 5, draining: (n) => steps.push(`draining ${n}`) });
  controller.abort();
  t.equal(await waiting, true);
  t.same(steps, ['stop']);
});

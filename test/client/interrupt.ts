import t from 'tap';
import { interruptOnSignals } from '../../client/interrupt.js';

t.test('the first SIGINT aborts the run gracefully, a second one exits at once with 130', async (t) => {
  const notices: string[] = [];
  const exits: number[] = [];
  const interrupt = interruptOnSignals((line) => notices.push(line), ['SIGUSR2'], (code) => exits.push(code));
  t.teardown(() => interrupt.dispose());
  t.equal(interrupt.signal.aborted, false);
  process.emit('SIGUSR2', 'SIGUSR2');
  t.equal(interrupt.signal.aborted, true);
  t.same(exits, []);
  t.match(notices[0], /SIGUSR2: stopping, writing the summary and report \(Ctrl-C again quits at once\)/);
  process.emit('SIGUSR2', 'SIGUSR2');
  t.same(exits, [130]);
});

t.test('a second SIGTERM exits with 143, and dispose() removes the handlers', async (t) => {
  const exits: number[] = [];
  const before = process.listenerCount('SIGTERM');
  const interrupt = interruptOnSignals(() => undefined, ['SIGTERM'], (code) => exits.push(code));
  process.emit('SIGTERM', 'SIGTERM');
  process.emit('SIGTERM', 'SIGTERM');
  t.same(exits, [143]);
  interrupt.dispose();
  t.equal(process.listenerCount('SIGTERM'), before);
});

import t from 'tap';
import { TypedEmitter } from '../../client/events.js';

interface Events {
  change: [from: string, to: string];
  tick: [];
}

t.test('TypedEmitter calls every listener with the arguments, in order', async (t) => {
  const emitter = new TypedEmitter<Events>(() => t.fail('no error expected'));
  const seen: string[] = [];
  emitter.on('change', (from, to) => seen.push(`1:${from}->${to}`)).on('change', (from, to) => seen.push(`2:${from}->${to}`));
  emitter.emit('change', 'pod-a', 'pod-b');
  emitter.emit('tick');
  t.same(seen, ['1:pod-a->pod-b', '2:pod-a->pod-b']);
});

t.test('a listener that throws is reported and the others still run', async (t) => {
  const errors: [unknown, keyof Events][] = [];
  const emitter = new TypedEmitter<Events>((error, event) => errors.push([error, event]));
  let reached = false;
  emitter.on('tick', () => {
    throw new Error('broken consumer');
  });
  emitter.on('tick', () => (reached = true));
  emitter.emit('tick');
  t.equal(reached, true);
  t.equal(errors.length, 1);
  t.match((errors[0]![0] as Error).message, 'broken consumer');
  t.equal(errors[0]![1], 'tick');
});

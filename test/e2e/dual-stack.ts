// The dual-stack scenario itself runs in the suite (scenarios.ts, as scenario 9); here its pure part.
import t from 'tap';
import { movedInConntrack } from './lib/dual-stack.js';

t.test('movedInConntrack() names the sessions whose flow conntrack sends to another pod than before', async (t) => {
  const session = (n: number, mappedAddress: string | null) => ({ session: n, mappedAddress }) as never;
  const before = new Map([
    ['203.0.113.2:40001', 'pod-1'],
    ['203.0.113.2:40002', 'pod-2'],
    ['[2001:db8:113::2]:40003', 'pod-3'],
  ]);
  const after = new Map([
    ['203.0.113.2:40001', 'pod-2'],
    ['203.0.113.2:40002', 'pod-2'],
    ['[2001:db8:113::2]:40003', 'pod-3'],
  ]);
  const sessions = [session(1, '203.0.113.2:40001'), session(2, '203.0.113.2:40002'), session(3, '[2001:db8:113::2]:40003'), session(4, null), session(5, '203.0.113.2:40009')];
  t.same(movedInConntrack(before, after, sessions), [1], 'unknown and unanswered sessions are not counted as moved');
});

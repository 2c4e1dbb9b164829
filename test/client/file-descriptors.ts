import t from 'tap';
import { checkDescriptors, DESCRIPTOR_MARGIN, descriptorLimit, parseProcLimits } from '../../client/file-descriptors.js';

t.test('parseProcLimits() reads the soft and hard open-files limits', async (t) => {
  const text = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n';
  t.same(parseProcLimits(text), { soft: 1024, hard: 524288 });
  t.same(parseProcLimits('Max open files            unlimited            unlimited            files'), { soft: Infinity, hard: Infinity });
  t.equal(parseProcLimits('nothing here'), undefined);
});

t.test('descriptorLimit() reads this process limit', async (t) => {
  const limit = descriptorLimit();
  t.ok(limit !== undefined && limit.soft > 0);
});

t.test('checkDescriptors() passes when sessions and the margin fit', async (t) => {
  t.doesNotThrow(() => checkDescriptors(1024 - DESCRIPTOR_MARGIN, { soft: 1024, hard: 1024 }));
  t.doesNotThrow(() => checkDescriptors(5, undefined));
});

t.test('checkDescriptors() says how many are needed and how to raise a soft limit', async (t) => {
  t.throws(() => checkDescriptors(2000, { soft: 1024, hard: 4096 }), { name: 'SetupError', kind: 'descriptor-limit' });
  t.throws(() => checkDescriptors(2000, { soft: 1024, hard: 4096 }), { message: /2000 sessions need about 2064 open files .* limit is 1024; raise it with "ulimit -n 2064"/ });
  t.throws(() => checkDescriptors(9000, { soft: 1024, hard: 4096 }), { message: /the hard limit is 4096/ });
});

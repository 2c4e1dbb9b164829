import t from 'tap';
import { parseTarget, resolveTarget, targetFrom } from '../../client/target.js';
import { SetupError } from '../../common/errors.js';

t.test('parseTarget() reads host:port, [v6]:port, bare IPv6 and bare hosts', async (t) => {
  t.same(parseTarget('192.0.2.1:3478'), { ok: true, target: { host: '192.0.2.1', port: 3478 } });
  t.same(parseTarget('[2001:db8::1]:5000'), { ok: true, target: { host: '2001:db8::1', port: 5000 } });
  t.same(parseTarget('2001:db8::1'), { ok: true, target: { host: '2001:db8::1', port: 3478 } });
  t.same(parseTarget('[::1]'), { ok: true, target: { host: '::1', port: 3478 } });
  t.same(parseTarget('stun.example.com'), { ok: true, target: { host: 'stun.example.com', port: 3478 } });
  t.same(parseTarget(' lb.example.com:19302 '), { ok: true, target: { host: 'lb.example.com', port: 19302 } });
});

t.test('parseTarget() returns a reason for bad targets', async (t) => {
  for (const bad of ['', 'host:0', 'host:70000', 'host:abc', ':3478', '[2001:db8::1', '[192.0.2.1]:1', '[::1]x', '2001:db8::zz:1']) {
    const result = parseTarget(bad);
    t.equal(result.ok, false, bad);
    if (!result.ok) t.ok(result.reason.length > 0);
  }
});

t.test('targetFrom() prefers --target, then TARGET_ADDR and TARGET_PORT', async (t) => {
  t.same(targetFrom('192.0.2.1:1', { TARGET_ADDR: '192.0.2.2', TARGET_PORT: '2' }), { ok: true, target: { host: '192.0.2.1', port: 1 } });
  t.same(targetFrom(undefined, { TARGET_ADDR: '192.0.2.2', TARGET_PORT: '2' }), { ok: true, target: { host: '192.0.2.2', port: 2 } });
  t.same(targetFrom(undefined, { TARGET_ADDR: '2001:db8::2', TARGET_PORT: '2' }), { ok: true, target: { host: '2001:db8::2', port: 2 } });
  t.same(targetFrom(undefined, { TARGET_ADDR: '192.0.2.2' }), { ok: true, target: { host: '192.0.2.2', port: 3478 } });
  t.equal(targetFrom(undefined, {}), undefined);
  t.equal(targetFrom(undefined, { TARGET_ADDR: ' ' }), undefined);
});

t.test('resolveTarget() keeps IP literals and resolves localhost', async (t) => {
  const v6 = await resolveTarget({ host: '::1', port: 9 });
  t.same(v6, { host: '::1', port: 9, address: '::1', family: 6, endpoint: '[::1]:9' });
  const local = await resolveTarget({ host: 'localhost', port: 9 });
  t.ok(local.address === '127.0.0.1' || local.address === '::1');
});

t.test('resolveTarget() of an unresolvable name rejects with SetupError(target-unresolved) naming the host', async (t) => {
  await t.rejects(resolveTarget({ host: 'no-such-host.invalid', port: 1 }), SetupError);
  t.match(await resolveTarget({ host: 'no-such-host.invalid', port: 1 }).catch((e: unknown) => e), { kind: 'target-unresolved' });
  await t.rejects(resolveTarget({ host: 'no-such-host.invalid', port: 1 }), { message: /cannot resolve the target host "no-such-host\.invalid"/ });
});

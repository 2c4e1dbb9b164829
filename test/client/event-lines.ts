import t from 'tap';
import { Chalk } from 'chalk';
import { attributionLine, clusterEventLine, formatMs, sessionEventLine } from '../../client/event-lines.js';
import type { SessionEvent } from '../../client/events.js';
import { IdentityRegistry } from '../../client/serving-identity.js';

const plain = new Chalk({ level: 0 });
const colour = new Chalk({ level: 1 });

t.test('change lines are red on a colour terminal and plain otherwise', async (t) => {
  const identities = new IdentityRegistry();
  const change: SessionEvent = {
    type: 'pod-change',
    time: Date.UTC(2026, 0, 1, 9, 30, 0, 5),
    session: 3,
    from: identities.named('pod-a', 'node-1'),
    to: identities.named('pod-b', undefined),
    silentMs: 1500,
  };
  t.equal(sessionEventLine(change, plain), '09:30:00.005 session 3 POD CHANGE pod-a (node-1) -> pod-b (silent 1.50s)');
  t.match(sessionEventLine(change, colour), /^\u001b\[31m.*\u001b\[39m$/);
  const address: SessionEvent = { type: 'address-change', time: 0, session: 1, from: '[2001:db8::1]:1', to: '[2001:db8::1]:2', silentMs: 10 };
  t.match(sessionEventLine(address, plain), /ADDRESS CHANGE \[2001:db8::1\]:1 -> \[2001:db8::1\]:2 \(silent 10ms\)/);
  const plainStun = identities.unnamed('192.0.2.1', '192.0.2.1:3478', 'Coturn-4.6');
  const established: SessionEvent = { type: 'established', time: 0, session: 1, identity: plainStun, mapped: '203.0.113.7:1', rttMs: 0.5 };
  t.match(sessionEventLine(established, plain), /established: 192\.0\.2\.1:3478 \(Coturn-4\.6\), seen as 203\.0\.113\.7:1, rtt 0\.50ms/);
  const burst: SessionEvent = { type: 'loss-burst', time: 0, session: 1, consecutive: 3, silentMs: 3000 };
  t.match(sessionEventLine(burst, plain), /LOSS BURST: 3 requests in a row unanswered/);
  const cluster = { time: 1000, kind: 'endpoint-removed' as const, subject: '10.1.2.3', text: 'endpoint 10.1.2.3 (pod-b) removed' };
  t.equal(attributionLine(cluster, 1400, plain), '  ↳ endpoint 10.1.2.3 (pod-b) removed 400ms before');
  t.match(clusterEventLine(cluster, plain), /00:00:01\.000 cluster endpoint 10\.1\.2\.3 \(pod-b\) removed/);
  t.equal(formatMs(null), '-');
  t.equal(formatMs(55.55), '55.5ms');
});

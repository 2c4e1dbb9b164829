import t from 'tap';
import type { BindingResponse } from '../../common/stun/codec.js';
import { encodeTransactionId } from '../../common/stun/transaction-id.js';
import type { SessionEvent } from '../../client/events.js';
import { IdentityRegistry } from '../../client/serving-identity.js';
import { Session, WINDOW } from '../../client/session.js';

const SESSION_ID = 0xabcdef000001;
const TAG = 0x1234;
const SOURCE = { address: '192.0.2.10', endpoint: '192.0.2.10:3478' };

function newSession(timeoutMs = 2000, identities = new IdentityRegistry()): { session: Session; events: SessionEvent[] } {
  const events: SessionEvent[] = [];
  const session = new Session({ number: 7, sessionId: SESSION_ID, timeoutMs, identities, emit: (e) => events.push(e), random: () => TAG });
  return { session, events };
}

function reply(sequence: number, fields: Partial<Omit<BindingResponse, 'transactionId'>> = {}, sessionId = SESSION_ID, tag = TAG): BindingResponse {
  return {
    transactionId: encodeTransactionId(sessionId, sequence, tag),
    podName: 'pod-a',
    nodeName: 'node-1',
    mappedAddress: { family: 4, address: '203.0.113.7', port: 40211 },
    ...fields,
  };
}

t.test('reply() to a pending request counts it answered, records the RTT and emits established once', async (t) => {
  const { session, events } = newSession();
  t.equal(session.send(1000), 0);
  t.equal(session.reply(reply(0), SOURCE, 1012.5).kind, 'answered');
  t.equal(session.send(2000), 1);
  t.strictSame(session.reply(reply(1), SOURCE, 2003), { kind: 'answered', rttMs: 3 }, 'reply() returns the RTT');
  t.equal(session.counters.received, 2);
  t.equal(session.counters.rttMaxMs, 12.5);
  t.same(
    events.map((e) => e.type),
    ['established'],
  );
  const established = events[0] as Extract<SessionEvent, { type: 'established' }>;
  t.equal(established.identity.label, 'pod-a');
  t.equal(established.mapped, '203.0.113.7:40211');
  t.equal(established.rttMs, 12.5);
  t.equal(session.lost, 0);
  t.equal(session.pending, 0);
});

t.test('expire() counts a request lost once its timeout has passed, not before', async (t) => {
  const { session } = newSession(2000);
  session.send(0);
  session.expire(1999);
  t.equal(session.lost, 0);
  t.equal(session.pending, 1);
  session.expire(2000);
  t.equal(session.lost, 1);
  t.equal(session.pending, 0);
  session.expire(5000);
  t.equal(session.lost, 1, 'never counted twice');
});

t.test('a reply after the timeout moves the request from lost to late, never counting it twice', async (t) => {
  const { session } = newSession(2000);
  session.send(0);
  session.expire(2500);
  t.equal(session.lost, 1);
  t.equal(session.reply(reply(0), SOURCE, 2600).kind, 'late');
  t.equal(session.lost, 0);
  t.equal(session.counters.late, 1);
  t.equal(session.counters.received, 1);
  t.equal(session.counters.timedOut, 1);
  t.equal(session.reply(reply(0), SOURCE, 2700).kind, 'duplicate', 'a second copy of a late reply is a duplicate');
  t.equal(session.counters.late, 1);
});

t.test('a second copy of a reply is a duplicate and changes nothing else', async (t) => {
  const { session } = newSession();
  session.send(0);
  session.reply(reply(0), SOURCE, 1);
  t.equal(session.reply(reply(0), SOURCE, 2).kind, 'duplicate');
  t.equal(session.counters.duplicates, 1);
  t.equal(session.counters.received, 1);
});

t.test('a reply overtaken by a later one is reordered, answered, and not lost', async (t) => {
  const { session, events } = newSession();
  session.send(0);
  session.send(1000);
  t.equal(session.reply(reply(1), SOURCE, 1001).kind, 'answered');
  t.equal(session.reply(reply(0), SOURCE, 1002).kind, 'reordered');
  t.equal(session.counters.reordered, 1);
  t.equal(session.counters.received, 2);
  session.expire(10_000);
  t.equal(session.lost, 0);
  t.equal(events.length, 1, 'only established');
});

t.test('a reordered reply from the old pod does not flip the session back to it', async (t) => {
  const { session, events } = newSession();
  session.send(0);
  session.reply(reply(0, { podName: 'pod-a' }), SOURCE, 1);
  session.send(1000);
  session.send(2000);
  session.reply(reply(2, { podName: 'pod-b' }), SOURCE, 2001);
  session.reply(reply(1, { podName: 'pod-a' }), SOURCE, 2002);
  t.equal(session.identity?.label, 'pod-b');
  t.equal(session.counters.podChanges, 1);
  t.same(
    events.map((e) => e.type),
    ['established', 'pod-change'],
  );
});

t.test('replies for another session, an unsent sequence or with wrong random bits are ignored', async (t) => {
  const { session } = newSession();
  session.send(0);
  t.equal(session.reply(reply(0, {}, SESSION_ID + 1), SOURCE, 1).kind, 'foreign');
  t.equal(session.reply(reply(5), SOURCE, 1).kind, 'foreign');
  t.equal(session.reply(reply(0, {}, SESSION_ID, TAG ^ 1), SOURCE, 1).kind, 'foreign');
  t.equal(session.counters.ignored, 3);
  t.equal(session.counters.received, 0);
  t.equal(session.pending, 1);
});

t.test('a reply older than the window is stale and ignored', async (t) => {
  const { session } = newSession(10);
  for (let i = 0; i <= WINDOW; i++) {
    session.expire(i * 100);
    session.send(i * 100);
  }
  t.equal(session.reply(reply(0), SOURCE, 1e6).kind, 'stale');
  t.equal(session.counters.ignored, 1);
  t.equal(session.counters.late, 0);
});

t.test('a pod change emits one event with old and new pod, nodes and silence', async (t) => {
  const { session, events } = newSession();
  session.send(0);
  session.reply(reply(0), SOURCE, 1);
  session.send(1000);
  session.reply(reply(1, { podName: 'pod-b', nodeName: 'node-2' }), SOURCE, 1501);
  const change = events[1] as Extract<SessionEvent, { type: 'pod-change' }>;
  t.equal(change.type, 'pod-change');
  t.equal(change.session, 7);
  t.equal(change.from.label, 'pod-a');
  t.equal(change.from.node, 'node-1');
  t.equal(change.to.label, 'pod-b');
  t.equal(change.to.node, 'node-2');
  t.equal(change.silentMs, 1500);
  t.equal(change.time, 1501);
  t.equal(session.counters.podChanges, 1);
  t.equal(session.counters.addressChanges, 0);
});

t.test('the same pod on another node is a pod change', async (t) => {
  const { session } = newSession();
  session.send(0);
  session.reply(reply(0), SOURCE, 1);
  session.send(1000);
  session.reply(reply(1, { nodeName: 'node-9' }), SOURCE, 1001);
  t.equal(session.counters.podChanges, 1);
});

t.test('a reflective address change emits one event with old and new ip:port (IPv6 in brackets)', async (t) => {
  const { session, events } = newSession();
  session.send(0);
  session.reply(reply(0, { mappedAddress: { family: 6, address: '2001:db8::7', port: 40211 } }), SOURCE, 1);
  session.send(1000);
  session.reply(reply(1, { mappedAddress: { family: 6, address: '2001:db8::7', port: 51872 } }), SOURCE, 1002);
  const change = events[1] as Extract<SessionEvent, { type: 'address-change' }>;
  t.equal(change.type, 'address-change');
  t.equal(change.from, '[2001:db8::7]:40211');
  t.equal(change.to, '[2001:db8::7]:51872');
  t.equal(change.silentMs, 1001);
  t.equal(session.counters.addressChanges, 1);
  t.equal(session.counters.podChanges, 0);
});

t.test('a pod change and an address change in one reply emit both events', async (t) => {
  const { session, events } = newSession();
  session.send(0);
  session.reply(reply(0), SOURCE, 1);
  session.send(1000);
  session.reply(reply(1, { podName: 'pod-b', mappedAddress: { family: 4, address: '203.0.113.7', port: 1 } }), SOURCE, 1001);
  t.same(
    events.map((e) => e.type),
    ['established', 'pod-change', 'address-change'],
  );
});

t.test('without a pod attribute (plain STUN) the identity is the source endpoint and SOFTWARE', async (t) => {
  const { session, events } = newSession();
  const plain = { podName: undefined, nodeName: undefined, software: 'Coturn-4.6.1' };
  session.send(0);
  session.reply(reply(0, plain), SOURCE, 1);
  t.equal(session.identity?.label, '192.0.2.10:3478');
  t.equal(session.identity?.named, false);
  session.send(1000);
  session.reply(reply(1, plain), SOURCE, 1001);
  t.equal(session.counters.podChanges, 0);
  session.send(2000);
  session.reply(reply(2, { ...plain, software: 'other-stun/1' }), SOURCE, 2001);
  t.equal(session.counters.podChanges, 1, 'another SOFTWARE behind the same address is another server');
  t.equal(events.length, 2);
});

t.test('a plain STUN server is named after its pod when the cluster watch knows its IP', async (t) => {
  const registry = new IdentityRegistry((ip) => (ip === '192.0.2.10' ? { pod: 'stun-0', node: 'aks-1' } : undefined));
  const { session } = newSession(2000, registry);
  session.send(0);
  session.reply(reply(0, { podName: undefined, nodeName: undefined }), SOURCE, 1);
  t.equal(session.identity?.label, 'stun-0');
  t.equal(session.identity?.node, 'aks-1');
});

t.test('the longest outage is the time from the last good reply to the next, across losses', async (t) => {
  const { session } = newSession(2000);
  session.send(0);
  session.reply(reply(0), SOURCE, 1);
  for (let i = 1; i <= 4; i++) {
    session.expire(i * 1000);
    session.send(i * 1000);
  }
  session.expire(5000); // requests 1..2 are lost, 3 and 4 pending
  t.equal(session.lost, 3);
  session.reply(reply(4), SOURCE, 5000.5);
  t.equal(session.counters.longestOutageMs, 4999.5);
});

t.test('a normal gap between replies without loss is no outage', async (t) => {
  const { session } = newSession(2000);
  for (let i = 0; i < 5; i++) {
    session.expire(i * 1000);
    session.send(i * 1000);
    session.reply(reply(i), SOURCE, i * 1000 + 1);
  }
  session.finish(10_000);
  t.equal(session.counters.longestOutageMs, 0);
});

t.test('finish() counts an outage still going on at the stop, and leaves requests within their timeout pending', async (t) => {
  const { session } = newSession(2000);
  session.send(0);
  session.reply(reply(0), SOURCE, 1);
  session.send(1000);
  session.send(2000);
  session.send(3000);
  session.finish(3500);
  t.equal(session.lost, 1, 'the request of 1000 timed out at 3000');
  t.equal(session.pending, 2, 'the requests of 2000 and 3000 are still within their timeout');
  t.equal(session.counters.longestOutageMs, 3499);
});

t.test('three consecutive losses emit one loss burst', async (t) => {
  const { session, events } = newSession(100);
  session.send(0);
  session.reply(reply(0), SOURCE, 1);
  for (let i = 1; i <= 5; i++) {
    session.expire(i * 1000);
    session.send(i * 1000);
  }
  session.expire(10_000);
  const bursts = events.filter((e) => e.type === 'loss-burst');
  t.equal(bursts.length, 1);
  t.equal(session.counters.lossBursts, 1);
  t.equal(bursts[0]!.type === 'loss-burst' && bursts[0]!.consecutive, 3);
});

t.test('a counter step larger than the sequence step attributes the losses to lost replies', async (t) => {
  const { session } = newSession(2000);
  session.send(0);
  session.reply(reply(0, { sessionRequestCount: 1 }), SOURCE, 1);
  session.send(1000);
  session.send(2000);
  session.send(3000);
  session.expire(5500); // 1 and 2 lost; the server saw both (count jumps 1 -> 4)
  session.reply(reply(3, { sessionRequestCount: 4 }), SOURCE, 5600);
  t.equal(session.lost, 2);
  t.equal(session.counters.lostReplies, 2);
  t.equal(session.counters.lostRequests, 0);
});

t.test('a counter step equal to one attributes the losses to lost requests', async (t) => {
  const { session } = newSession(2000);
  session.send(0);
  session.reply(reply(0, { sessionRequestCount: 10 }), SOURCE, 1);
  session.send(1000);
  session.send(2000);
  session.send(3000);
  session.reply(reply(3, { sessionRequestCount: 11 }), SOURCE, 3001);
  t.equal(session.counters.lostRequests, 0, 'not settled while the requests in between are pending');
  session.expire(5500);
  t.equal(session.counters.lostRequests, 2);
  t.equal(session.counters.lostReplies, 0);
});

t.test('a mixed gap splits losses into lost requests and lost replies', async (t) => {
  const { session } = newSession(2000);
  session.send(0);
  session.reply(reply(0, { sessionRequestCount: 1 }), SOURCE, 1);
  for (let i = 1; i <= 4; i++) session.send(i * 100);
  session.reply(reply(2, { sessionRequestCount: 3 }), SOURCE, 250); // request 1 arrived? count says 1 between: request 1 arrived
  session.expire(5000); // 1, 3, 4 lost
  t.equal(session.counters.lostReplies, 1, 'request 1 reached the server, its reply was lost');
  t.equal(session.counters.lostRequests, 0, '3 and 4 have no later reply: unattributed');
  t.equal(session.lost, 3);
});

t.test('a late reply takes back its lost-reply attribution', async (t) => {
  const { session } = newSession(2000);
  session.send(0);
  session.reply(reply(0, { sessionRequestCount: 1 }), SOURCE, 1);
  session.send(1000);
  session.send(2000);
  session.expire(3500);
  session.reply(reply(2, { sessionRequestCount: 3 }), SOURCE, 3600);
  t.equal(session.counters.lostReplies, 1);
  session.reply(reply(1, { sessionRequestCount: 2 }), SOURCE, 3700);
  t.equal(session.counters.lostReplies, 0);
  t.equal(session.counters.late, 1);
  t.equal(session.lost, 0);
});

t.test('losses across a pod change, or with a counter that went backwards, stay unattributed', async (t) => {
  const { session } = newSession(2000);
  session.send(0);
  session.reply(reply(0, { sessionRequestCount: 5 }), SOURCE, 1);
  session.send(1000);
  session.send(2000);
  session.expire(3500);
  session.reply(reply(2, { podName: 'pod-b', sessionRequestCount: 9 }), SOURCE, 3600);
  session.send(4000);
  session.send(5000);
  session.send(6000);
  session.expire(7100);
  session.reply(reply(5, { podName: 'pod-b', sessionRequestCount: 2 }), SOURCE, 7200);
  session.expire(10_000);
  t.equal(session.lost, 3);
  t.equal(session.counters.lostRequests + session.counters.lostReplies, 0);
});

t.test('flowEnded() counts the pending requests lost at once, and the next flow\'s new address is no address change', async (t) => {
  const { session, events } = newSession(2000);
  session.send(0);
  session.reply(reply(0), SOURCE, 5);
  session.send(1000);
  session.send(1500);
  session.flowEnded(1600);
  t.equal(session.lost, 2);
  t.equal(session.pending, 0);
  t.equal(session.mapped, undefined);
  session.send(2000);
  session.reply(reply(3, { mappedAddress: { family: 4, address: '203.0.113.7', port: 50000 } }), SOURCE, 2010);
  t.equal(session.counters.addressChanges, 0);
  t.equal(session.mapped, '203.0.113.7:50000');
  session.expire(10_000);
  t.equal(session.lost, 2, 'the requests lost with the flow are not counted again at their timeout');
  t.same(
    events.map((e) => e.type),
    ['established'],
  );
});

t.test('pending stays the requests neither answered in time nor timed out, through a seeded mix of sends, replies, duplicates, expiries, ended flows and window wrap-arounds', async (t) => {
  const { session } = newSession(3000);
  let seed = 12345;
  const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  let now = 0;
  let mismatches = 0;
  for (let step = 0; step < 20_000; step++) {
    now += random(50);
    const roll = random(100);
    if (roll < 45) session.send(now);
    else if (roll < 85 && session.counters.sent > 0) session.reply(reply(Math.max(0, session.counters.sent - 1 - random(WINDOW + 8))), SOURCE, now);
    else if (roll < 98) session.expire(now);
    else session.flowEnded(now);
    const c = session.counters;
    if (session.pending !== c.sent - (c.received - c.late) - c.timedOut) mismatches++;
  }
  t.equal(mismatches, 0);
  t.ok(session.counters.late > 0 && session.counters.duplicates > 0 && session.counters.timedOut > 0, 'every path was taken');
});

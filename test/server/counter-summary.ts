import t from 'tap';
import { summaryOf, totalsOf } from '../../server/counter-summary.js';
import { DROP_REASONS, type DropReason } from '../../server/responder.js';
import type { ServerCounters } from '../../server/udp-server.js';

function counters(requests: number, replies: number, drops: Partial<Record<DropReason, number>> = {}, sendBacklogDrops = 0): ServerCounters {
  const all = Object.fromEntries(DROP_REASONS.map((reason) => [reason, drops[reason] ?? 0])) as Record<DropReason, number>;
  return { requests, replies, drops: all, sendBacklogDrops };
}

t.test('totalsOf() copies the counters and keeps only the drop reasons that happened', async (t) => {
  const live = counters(10, 7, { 'not-stun': 2, 'bad-fingerprint': 1 }, 1);
  const totals = totalsOf(live);
  t.same(totals, { requests: 10, replies: 7, drops: { 'not-stun': 2, 'bad-fingerprint': 1 }, sendBacklogDrops: 1 });
  live.requests++;
  live.drops['not-stun']++;
  t.equal(totals.requests, 10, 'a copy: later datagrams do not change it');
  t.equal(totals.drops['not-stun'], 2);
});

t.test('summaryOf() gives the rates since the previous totals over the time that really passed', async (t) => {
  const previous = totalsOf(counters(1000, 900));
  const current = totalsOf(counters(4000, 3400, { truncated: 5 }));
  t.same(summaryOf(previous, current, 60_000), {
    requests: 4000,
    replies: 3400,
    drops: { truncated: 5 },
    sendBacklogDrops: 0,
    requestsPerSecond: 50,
    repliesPerSecond: 42,
  });
  t.equal(summaryOf(previous, current, 500).requestsPerSecond, 6000, 'a short period is not read as the nominal one');
  t.equal(summaryOf(previous, current, 7000).repliesPerSecond, 357, '2,500 replies in 7 s, rounded');
});

t.test('summaryOf() over no elapsed time gives rates of 0, not Infinity', async (t) => {
  const totals = totalsOf(counters(5, 5));
  t.same(summaryOf(totalsOf(counters(0, 0)), totals, 0), { ...totals, requestsPerSecond: 0, repliesPerSecond: 0 });
});

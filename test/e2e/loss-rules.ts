import t from 'tap';
import { planBed } from './lib/bed-plan.js';
import { lossTableScript, parseLossCounters } from './lib/loss-rules.js';

const plan = planBed('at1-', 3);

t.test('lossTableScript() drops requests towards the bridge and replies from it with numgen, counting both', async (t) => {
  const script = lossTableScript(plan, 0.1);
  t.match(script, 'oifname "at1-br" udp dport 3478 numgen random mod 10000 < 1000 counter name "requests-dropped" drop');
  t.match(script, 'iifname "at1-br" udp sport 3478 numgen random mod 10000 < 1000 counter name "replies-dropped" drop');
  t.match(script, 'oifname "at1-br" udp dport 3478 counter name "requests-seen"');
  t.match(script, 'type filter hook forward priority filter');
  t.throws(() => lossTableScript(plan, 1.5), RangeError);
});

t.test('parseLossCounters() reads the named counters from nft -j output', async (t) => {
  const json = JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6' } },
      { table: { family: 'ip', name: 'affinity-e2e-loss' } },
      { counter: { family: 'ip', name: 'requests-seen', table: 'affinity-e2e-loss', packets: 400, bytes: 1 } },
      { counter: { family: 'ip', name: 'requests-dropped', table: 'affinity-e2e-loss', packets: 41, bytes: 1 } },
      { counter: { family: 'ip', name: 'replies-seen', table: 'affinity-e2e-loss', packets: 359, bytes: 1 } },
      { counter: { family: 'ip', name: 'replies-dropped', table: 'affinity-e2e-loss', packets: 33, bytes: 1 } },
    ],
  });
  t.same(parseLossCounters(json), { requestsSeen: 400, requestsDropped: 41, repliesSeen: 359, repliesDropped: 33 });
});

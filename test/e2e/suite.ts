import t from 'tap';
import { dualStackPlanned, plannedNodesRuns, plannedRuns, tableRows } from './lib/suite.js';

const names = (runs: ReturnType<typeof plannedRuns>) => runs.map((r) => `${r.scenario.id} ${r.layout} IPv${r.family}`);

t.test('plannedRuns() runs scenarios 1-6 and the TCP ones (20-23) in both layouts over IPv4 and IPv6, and 7 and 8 over IPv4 with iptables', async (t) => {
  const runs = names(plannedRuns());
  t.equal(runs.length, 42);
  t.same(runs.slice(0, 12), [1, 2, 3, 4, 5, 6, 7, 8, 20, 21, 22, 23].map((id) => `${id} iptables IPv4`));
  t.same(runs.slice(22, 32), [1, 2, 3, 4, 5, 6, 20, 21, 22, 23].map((id) => `${id} iptables IPv6`));
  t.notOk(runs.some((r) => /^[78] .*IPv6$/.test(r)));
});

t.test('plannedRuns() keeps only the scenarios, layouts and families asked for', async (t) => {
  t.same(names(plannedRuns({ only: [2, 7], layouts: ['nftables'], families: [6] })), ['2 nftables IPv6']);
  t.same(names(plannedRuns({ only: [7], families: [4] })), ['7 iptables IPv4']);
  t.same(names(plannedRuns({ only: [20, 23], layouts: ['iptables'], families: [4] })), ['20 iptables IPv4', '23 iptables IPv4']);
  t.same(
    names(plannedRuns({ only: [1, 20, 21], tcp: { only: [20], layouts: ['iptables'], families: [4] } })),
    ['1 iptables IPv4', '20 iptables IPv4', '1 nftables IPv4', '1 iptables IPv6', '1 nftables IPv6'],
    'the tcp option narrows the TCP scenarios only',
  );
});

t.test('dualStackPlanned() runs the dual-stack scenario (13) with both families and iptables, unless --only leaves it out', async (t) => {
  t.equal(dualStackPlanned(), true);
  t.equal(dualStackPlanned({ only: [13] }), true);
  t.equal(dualStackPlanned({ only: [1, 2] }), false);
  t.equal(dualStackPlanned({ families: [6] }), false);
  t.equal(dualStackPlanned({ layouts: ['nftables'] }), false);
  t.equal(dualStackPlanned({ beds: ['nodes'] }), false);
});

t.test('tableRows() names the dual-stack row IPv4+IPv6', async (t) => {
  const client = { code: 1, stdout: '', stderr: '', report: {} as never, events: [] };
  const rows = tableRows([{ id: 13, title: 'dual stack', layout: 'iptables', family: 'dual', expected: 'e', reported: 'r', checks: [], pass: true, client }]);
  t.same(rows, [{ scenario: '13. dual stack', family: 'IPv4+IPv6', layout: 'iptables', expected: 'e', reported: 'r', result: 'pass' }]);
});

t.test('plannedNodesRuns() runs the node scenarios 9-12 in both layouts, over IPv4 only', async (t) => {
  const nodes = (runs: ReturnType<typeof plannedNodesRuns>) => runs.map((r) => `${r.scenario.id} ${r.layout}`);
  t.same(nodes(plannedNodesRuns()), ['9 iptables', '10 iptables', '11 iptables', '12 iptables', '9 nftables', '10 nftables', '11 nftables', '12 nftables']);
  t.same(nodes(plannedNodesRuns({ only: [9], layouts: ['nftables'] })), ['9 nftables']);
  t.same(nodes(plannedNodesRuns({ families: [6] })), []);
  t.same(nodes(plannedNodesRuns({ nodes: { only: [9], layouts: ['iptables'] } })), ['9 iptables'], 'what the tap suite runs');
  t.same(nodes(plannedNodesRuns({ only: [2], nodes: { only: [9] } })), []);
});

t.test('the beds option picks the one-node scenarios, the node scenarios, or both', async (t) => {
  t.equal(plannedRuns({ beds: ['nodes'] }).length, 0);
  t.equal(plannedNodesRuns({ beds: ['single'] }).length, 0);
  t.equal(plannedRuns({ beds: ['single', 'nodes'] }).length, 42);
  t.equal(plannedNodesRuns({ beds: ['nodes'] }).length, 8);
});

import t from 'tap';
import { plannedNodesRuns, plannedRuns } from './lib/suite.js';

const names = (runs: ReturnType<typeof plannedRuns>) => runs.map((r) => `${r.scenario.id} ${r.layout} IPv${r.family}`);

t.test('plannedRuns() runs scenarios 1-6 in both layouts over IPv4 and IPv6, and 7 and 8 over IPv4 with iptables', async (t) => {
  const runs = names(plannedRuns());
  t.equal(runs.length, 26);
  t.same(runs.slice(0, 8), [1, 2, 3, 4, 5, 6, 7, 8].map((id) => `${id} iptables IPv4`));
  t.same(runs.slice(14, 20), [1, 2, 3, 4, 5, 6].map((id) => `${id} iptables IPv6`));
  t.notOk(runs.some((r) => /^[78] .*IPv6$/.test(r)));
});

t.test('plannedRuns() keeps only the scenarios, layouts and families asked for', async (t) => {
  t.same(names(plannedRuns({ only: [2, 7], layouts: ['nftables'], families: [6] })), ['2 nftables IPv6']);
  t.same(names(plannedRuns({ only: [7], families: [4] })), ['7 iptables IPv4']);
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
  t.equal(plannedRuns({ beds: ['single', 'nodes'] }).length, 26);
  t.equal(plannedNodesRuns({ beds: ['nodes'] }).length, 8);
});

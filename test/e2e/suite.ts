import t from 'tap';
import { dualStackPlanned, plannedNodesRuns, plannedRuns, tableRows } from './lib/suite.js';

const names = (runs: ReturnType<typeof plannedRuns>) => runs.map((r) => `${r.scenario.id} ${r.layout} IPv${r.family}`);

t.test('plannedRuns() runs scenarios 1-6, the verdict\'s 14-16 and the TCP ones (20-23) in both layouts over IPv4 and IPv6, 17-19 with iptables over both, 7 and 8 over IPv4 with iptables', async (t) => {
  const runs = names(plannedRuns());
  t.equal(runs.length, 60);
  t.same(runs.slice(0, 18), [1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23].map((id) => `${id} iptables IPv4`));
  t.same(runs.slice(18, 31), [1, 2, 3, 4, 5, 6, 14, 15, 16, 20, 21, 22, 23].map((id) => `${id} nftables IPv4`));
  t.same(runs.slice(31, 47), [1, 2, 3, 4, 5, 6, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23].map((id) => `${id} iptables IPv6`));
  t.same(runs.slice(47), [1, 2, 3, 4, 5, 6, 14, 15, 16, 20, 21, 22, 23].map((id) => `${id} nftables IPv6`));
  t.notOk(runs.some((r) => /^(7|8) .*IPv6$/.test(r)));
});

t.test('plannedRuns() narrows the verdict\'s scenarios by their own ids and layouts, leaving the others alone', async (t) => {
  const tap = names(plannedRuns({ families: [4], verdict: { only: [14, 15, 16], layouts: ['nftables'] } }));
  t.same(
    tap.filter((r) => /^1[4-9] /.test(r)),
    ['14 nftables IPv4', '15 nftables IPv4', '16 nftables IPv4'],
    'what the tap suite runs',
  );
  t.equal(tap.length, 8 + 6 + 3 + 2 * 4, 'the other scenarios as they were: 1-8, 1-6, and the TCP ones in each layout');
  t.same(names(plannedRuns({ only: [17, 18], verdict: { only: [18] } })), ['18 iptables IPv4', '18 iptables IPv6']);
  t.same(names(plannedRuns({ verdict: { only: [14, 15, 16], layouts: ['nftables'], families: [4] } })).filter((r) => /^1[4-9] /.test(r)), ['14 nftables IPv4', '15 nftables IPv4', '16 nftables IPv4'], 'and by their own families');
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

t.test('tableRows() gives a verdict scenario its class cells, kernel / client', async (t) => {
  const client = { code: 1, stdout: '', stderr: '', report: {} as never };
  const classes = { kernel: { expected: 10, violations: 0, stuck: 10 }, client: { expected: 10, violations: 1, stuck: 9 } };
  const [row] = tableRows([{ id: 16, title: 'stale', layout: 'nftables', family: 4, expected: 'e', reported: 'r', checks: [], pass: false, client, classes }]);
  t.same(row, { scenario: '16. stale', family: 'IPv4', layout: 'nftables', expected: 'e', reported: 'r', expectedMoves: '10 / 10', violations: '0 / 1', stuck: '10 / 9', result: 'FAIL' });
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
  t.equal(plannedRuns({ beds: ['single', 'nodes'] }).length, 60);
  t.equal(plannedNodesRuns({ beds: ['nodes'] }).length, 8);
});

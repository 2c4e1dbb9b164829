import t from 'tap';
import { formatTable, wrap } from './lib/table.js';

t.test('wrap() breaks at spaces within the width, and keeps a long word whole', async (t) => {
  t.same(wrap('pod changes 13 (the sessions on pod-1)', 16), ['pod changes 13', '(the sessions on', 'pod-1)']);
  t.same(wrap('#1,#3,#6,#7,#10', 5), ['#1,#3,#6,#7,#10']);
  t.same(wrap('', 5), ['']);
});

t.test('formatTable() aligns columns under a header rule and wraps long cells', async (t) => {
  const text = formatTable(
    [
      { scenario: '1. steady state', family: 'IPv4', layout: 'iptables', expected: 'pod changes 0', reported: 'pod changes 0', result: 'pass' },
      { scenario: '2. scale-down', family: 'IPv6', layout: 'nftables', expected: 'pod changes 9 (the sessions on pod-2)', reported: 'pod changes 9', result: 'FAIL' },
    ],
    20,
  );
  const lines = text.split('\n');
  t.same(lines, [
    'scenario        | family | layout   | expected (kernel     | reported by the      | result',
    '                |        |          | ground truth)        | client               |',
    '----------------|--------|----------|----------------------|----------------------|-------',
    '1. steady state | IPv4   | iptables | pod changes 0        | pod changes 0        | pass',
    '2. scale-down   | IPv6   | nftables | pod changes 9 (the   | pod changes 9        | FAIL',
    '                |        |          | sessions on pod-2)   |                      |',
  ]);
});

t.test('formatTable() adds the three class columns, kernel / client, when a row has them', async (t) => {
  const plain = { scenario: '1. steady', family: 'IPv4', layout: 'iptables', expected: 'e', reported: 'r', result: 'pass' };
  const lines = formatTable([plain, { ...plain, scenario: '16. stale', expectedMoves: '10 / 10', violations: '0 / 0', stuck: '10 / 9', result: 'FAIL' }], 20).split('\n');
  t.same(lines, [
    'scenario  | family | layout   | expected (kernel     | reported by the      | expected      | violations    | stuck         | result',
    '          |        |          | ground truth)        | client               | moves         | kernel/client | kernel/client |',
    '          |        |          |                      |                      | kernel/client |               |               |',
    '----------|--------|----------|----------------------|----------------------|---------------|---------------|---------------|-------',
    '1. steady | IPv4   | iptables | e                    | r                    |               |               |               | pass',
    '16. stale | IPv4   | iptables | e                    | r                    | 10 / 10       | 0 / 0         | 10 / 9        | FAIL',
  ]);
});

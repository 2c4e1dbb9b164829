import t from 'tap';
import { backendsByClient, natPortsByLocalPort, parseConntrack } from './lib/conntrack.js';

// Captured from this bed: the node's table, then the client NAT's table.
const node = `ipv4     2 udp      17 29 src=203.0.113.2 dst=203.0.113.100 sport=59039 dport=3478 src=198.51.100.11 dst=203.0.113.2 sport=3478 dport=59039 mark=0 use=1
ipv4     2 udp      17 115 src=203.0.113.2 dst=203.0.113.100 sport=40474 dport=3478 src=198.51.100.12 dst=203.0.113.2 sport=3478 dport=40474 [ASSURED] mark=0 use=1
ipv4     2 udp      17 20 src=203.0.113.2 dst=198.51.100.11 sport=5000 dport=3478 [UNREPLIED] src=198.51.100.11 dst=203.0.113.2 sport=3478 dport=5000 mark=0 use=1
conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.
`;
const nat = `ipv4     2 udp      17 29 src=192.0.2.10 dst=203.0.113.100 sport=56897 dport=3478 src=203.0.113.100 dst=203.0.113.2 sport=3478 dport=12179 mark=0 use=1
ipv4     2 tcp      6 431999 ESTABLISHED src=192.0.2.10 dst=203.0.113.100 sport=1 dport=2 src=203.0.113.100 dst=203.0.113.2 sport=2 dport=1 [ASSURED] mark=0 use=1
`;

t.test('parseConntrack() reads the original and reply tuples of each flow and skips other lines', async (t) => {
  const flows = parseConntrack(node);
  t.equal(flows.length, 3);
  t.same(flows[1], {
    protocol: 'udp',
    original: { src: '203.0.113.2', dst: '203.0.113.100', sport: 40474, dport: 3478 },
    reply: { src: '198.51.100.12', dst: '203.0.113.2', sport: 3478, dport: 40474 },
  });
  t.same(parseConntrack('conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.\n'), []);
  t.same(parseConntrack('udp 17 29 src=1.2.3.4 dst=5.6.7.8 sport=1\n'), [], 'a line with half a tuple is skipped');
});

t.test('parseConntrack() reads the plain format (no layer-3 prefix) that conntrack -D prints', async (t) => {
  const flows = parseConntrack('udp      17 27 src=203.0.113.2 dst=203.0.113.100 sport=34173 dport=3478 src=198.51.100.12 dst=203.0.113.2 sport=3478 dport=34173 mark=0 use=1\n');
  t.equal(flows[0]?.reply.src, '198.51.100.12');
});

t.test('backendsByClient() maps each flow to the Service to the pod it was DNATed to', async (t) => {
  const backends = backendsByClient(parseConntrack(node), '203.0.113.100', 3478);
  t.same([...backends], [
    ['203.0.113.2:59039', '198.51.100.11'],
    ['203.0.113.2:40474', '198.51.100.12'],
  ]);
});

t.test('natPortsByLocalPort() maps a client socket port to the public port the NAT chose (UDP only)', async (t) => {
  t.same([...natPortsByLocalPort(parseConntrack(nat), '192.0.2.10', '203.0.113.100')], [[56897, 12179]]);
});

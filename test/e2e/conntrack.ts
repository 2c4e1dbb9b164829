import t from 'tap';
import { answersByClient, natPortsByLocalPort, parseConntrack, parseConntrackEvents, serviceFlows } from './lib/conntrack.js';

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

t.test('serviceFlows() maps each flow to the Service to the pod it was DNATed to, and the address the pod sees', async (t) => {
  t.same(serviceFlows(parseConntrack(node), '203.0.113.100', 3478), [
    { client: '203.0.113.2:59039', seen: '203.0.113.2:59039', backend: '198.51.100.11' },
    { client: '203.0.113.2:40474', seen: '203.0.113.2:40474', backend: '198.51.100.12' },
  ]);
});

t.test('serviceFlows() of TCP reads the established connections to the Service and skips those closing or closed', async (t) => {
  const tcp = `ipv4     2 tcp      6 431999 ESTABLISHED src=203.0.113.2 dst=203.0.113.100 sport=49318 dport=3478 src=198.51.100.13 dst=203.0.113.2 sport=3478 dport=49318 [ASSURED] mark=0 use=1
ipv4     2 tcp      6 117 TIME_WAIT src=203.0.113.2 dst=203.0.113.100 sport=49324 dport=3478 src=198.51.100.11 dst=203.0.113.2 sport=3478 dport=49324 [ASSURED] mark=0 use=1
ipv4     2 udp      17 29 src=203.0.113.2 dst=203.0.113.100 sport=59039 dport=3478 src=198.51.100.11 dst=203.0.113.2 sport=3478 dport=59039 mark=0 use=1
`;
  const flows = parseConntrack(tcp);
  t.same(flows.map((f) => f.state), ['ESTABLISHED', 'TIME_WAIT', undefined], 'the state of TCP flows only');
  t.same(serviceFlows(flows, '203.0.113.100', 3478, 'tcp'), [{ client: '203.0.113.2:49318', seen: '203.0.113.2:49318', backend: '198.51.100.13' }]);
  t.same(serviceFlows(flows, '203.0.113.100', 3478), [{ client: '203.0.113.2:59039', seen: '203.0.113.2:59039', backend: '198.51.100.11' }], 'UDP by default');
});

t.test('serviceFlows() shows the port the node gave a flow whose reply tuple clashed with a stale entry', async (t) => {
  // Captured after a flush: the reply goes to port 21858, not to the client's 45321.
  const line = 'ipv4 2 udp 17 29 src=203.0.113.2 dst=203.0.113.100 sport=45321 dport=3478 src=198.51.100.12 dst=203.0.113.2 sport=3478 dport=21858 mark=0 use=1';
  t.same(serviceFlows(parseConntrack(line), '203.0.113.100', 3478), [{ client: '203.0.113.2:45321', seen: '203.0.113.2:21858', backend: '198.51.100.12' }]);
});

t.test('serviceFlows() writes IPv6 client addresses as [address]:port, as the client reports them', async (t) => {
  // Captured from the IPv6 bed's node (conntrack -f ipv6).
  const line =
    'ipv6     10 udp      17 29 src=2001:db8:113::2 dst=2001:db8:113:1::100 sport=40474 dport=3478 src=2001:db8:100::12 dst=2001:db8:113::2 sport=3478 dport=40474 [ASSURED] mark=0 use=1';
  t.same(serviceFlows(parseConntrack(line), '2001:db8:113:1::100', 3478), [
    { client: '[2001:db8:113::2]:40474', seen: '[2001:db8:113::2]:40474', backend: '2001:db8:100::12' },
  ]);
});

t.test('natPortsByLocalPort() maps a client socket port to the public port the NAT chose (UDP only)', async (t) => {
  t.same([...natPortsByLocalPort(parseConntrack(nat), '192.0.2.10', '203.0.113.100')], [[56897, 12179]]);
});

// Captured from this bed's node during a flush: the first flow answered by pod-2; a flow created
// during the flush (no reply before it was destroyed); then a new flow answered by pod-1, and a
// later UPDATE of that same flow (ASSURED).
const events = `[1795345060.427628]	    [NEW] udp      17 30 src=203.0.113.2 dst=203.0.113.100 sport=45587 dport=3478 [UNREPLIED] src=198.51.100.12 dst=203.0.113.2 sport=3478 dport=45587
[1795345060.428089]	 [UPDATE] udp      17 30 src=203.0.113.2 dst=203.0.113.100 sport=45587 dport=3478 src=198.51.100.12 dst=203.0.113.2 sport=3478 dport=45587
[1795345061.057695]	[DESTROY] udp      17 29 src=203.0.113.2 dst=203.0.113.100 sport=45587 dport=3478 src=198.51.100.12 dst=203.0.113.2 sport=3478 dport=45587 [USERSPACE] portid=24092 progname=conntrack
    [NEW] udp      17 30 src=203.0.113.2 dst=203.0.113.100 sport=45587 dport=3478 [UNREPLIED] src=198.51.100.13 dst=203.0.113.2 sport=3478 dport=45587
[DESTROY] udp      17 29 src=203.0.113.2 dst=203.0.113.100 sport=45587 dport=3478 [UNREPLIED] src=198.51.100.13 dst=203.0.113.2 sport=3478 dport=45587
    [NEW] udp      17 30 src=203.0.113.2 dst=203.0.113.100 sport=45587 dport=3478 [UNREPLIED] src=198.51.100.11 dst=203.0.113.2 sport=3478 dport=45587
 [UPDATE] udp      17 30 src=203.0.113.2 dst=203.0.113.100 sport=45587 dport=3478 src=198.51.100.11 dst=203.0.113.2 sport=3478 dport=45587
 [UPDATE] udp      17 120 src=203.0.113.2 dst=203.0.113.100 sport=45587 dport=3478 src=198.51.100.11 dst=203.0.113.2 sport=3478 dport=45587 [ASSURED]
 [UPDATE] udp      17 30 src=203.0.113.2 dst=203.0.113.100 sport=39724 dport=3478 src=198.51.100.11 dst=203.0.113.2 sport=3478 dport=39724
conntrack v1.4.7 (conntrack-tools): 9 flow events have been shown.
`;

t.test('parseConntrackEvents() reads the kind, the flow and whether a reply has passed', async (t) => {
  const parsed = parseConntrackEvents(events);
  t.same(parsed.map((e) => e.kind), ['NEW', 'UPDATE', 'DESTROY', 'NEW', 'DESTROY', 'NEW', 'UPDATE', 'UPDATE', 'UPDATE']);
  t.same(parsed.map((e) => e.unreplied), [true, false, false, true, true, true, false, false, false]);
  t.equal(parsed[3]?.flow.reply.src, '198.51.100.13');
});

t.test('answersByClient() lists who answered each client and where it saw it, skipping flows no reply passed', async (t) => {
  t.same(
    [...answersByClient(parseConntrackEvents(events), '203.0.113.100', 3478)],
    [
      [
        '203.0.113.2:45587',
        [
          { backend: '198.51.100.12', seen: '203.0.113.2:45587' },
          { backend: '198.51.100.11', seen: '203.0.113.2:45587' },
        ],
      ],
      ['203.0.113.2:39724', [{ backend: '198.51.100.11', seen: '203.0.113.2:39724' }]],
    ],
  );
});

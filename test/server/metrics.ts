import t from 'tap';
import { encodeBindingRequest } from '../../common/stun/codec.js';
import { encodeTransactionId } from '../../common/stun/transaction-id.js';
import { createServerMetrics } from '../../server/metrics.js';
import { startTcpStunServer } from '../../server/tcp-server.js';
import { startStunServer } from '../../server/udp-server.js';
import { openTestSocket } from '../fixtures/stun-client.js';
import { connectTcpTestClient } from '../fixtures/stun-tcp-client.js';

t.test('createServerMetrics() reports requests, replies, drops by reason and active sessions, live at each read', async (t) => {
  const stun = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-m' });
  t.teardown(() => stun.close());
  const registry = createServerMetrics(stun);
  const client = await openTestSocket(4);
  t.teardown(() => client.close());
  await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(1, 0), size: 200 }), stun.port, '127.0.0.1');
  await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(2, 0), size: 200 }), stun.port, '127.0.0.1');
  await client.ask(Buffer.alloc(7), stun.port, '127.0.0.1', 200);
  const text = await registry.metrics();
  t.match(text, /^affinity_tester_server_requests_total 3$/m);
  t.match(text, /^affinity_tester_server_replies_total 2$/m);
  t.match(text, /^affinity_tester_server_drops_total\{reason="truncated"\} 1$/m);
  t.match(text, /^affinity_tester_server_drops_total\{reason="bad-fingerprint"\} 0$/m);
  t.match(text, /^affinity_tester_server_drops_total\{reason="send-backlog"\} 0$/m);
  t.match(text, /^affinity_tester_server_active_sessions 2$/m);
  t.match(text, /^affinity_tester_server_socket_buffer_bytes\{direction="receive"\} \d+$/m);
  t.match(text, /^process_resident_memory_bytes \d+/m, 'process metrics too');

  // A second read shows the live values, not a sum of reads.
  await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(1, 1), size: 200 }), stun.port, '127.0.0.1');
  const again = await registry.metrics();
  t.match(again, /^affinity_tester_server_requests_total 4$/m);
  t.match(again, /^affinity_tester_server_replies_total 3$/m);
});

t.test('createServerMetrics() with a TCP server reports its connections, closes and refusals by reason, replies and drops', async (t) => {
  const udp = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-m' });
  const tcp = await startTcpStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-m', maxConnections: 2 });
  t.teardown(async () => {
    await tcp.close();
    await udp.close();
  });
  const registry = createServerMetrics(udp, { defaultMetrics: false, tcp });

  const kept = await connectTcpTestClient(tcp.port, '127.0.0.1');
  t.teardown(() => kept.socket.destroy());
  await kept.ask(encodeBindingRequest({ transactionId: encodeTransactionId(1, 0) }));
  const indication = encodeBindingRequest({ transactionId: encodeTransactionId(1, 1), fingerprint: false });
  indication.writeUInt16BE(0x0011, 0);
  kept.socket.write(indication);
  await kept.ask(encodeBindingRequest({ transactionId: encodeTransactionId(1, 2) }));
  const garbage = await connectTcpTestClient(tcp.port, '127.0.0.1');
  await garbage.ask(Buffer.from([0x00, 0x01, 0x00, 0x03]));
  const second = await connectTcpTestClient(tcp.port, '127.0.0.1');
  t.teardown(() => second.socket.destroy());
  await second.ask(encodeBindingRequest({ transactionId: encodeTransactionId(2, 0) }));
  const over = await connectTcpTestClient(tcp.port, '127.0.0.1');
  await over.closed;

  const text = await registry.metrics();
  const lines = text.split('\n').filter((line) => line.startsWith('affinity_tester_server_tcp_') && !/ 0$/.test(line));
  t.same(lines, [
    'affinity_tester_server_tcp_connections_open 2',
    'affinity_tester_server_tcp_connections_accepted_total 3',
    'affinity_tester_server_tcp_connections_refused_total{reason="max-connections"} 1',
    'affinity_tester_server_tcp_connections_closed_total{reason="bad-length"} 1',
    'affinity_tester_server_tcp_requests_total 4',
    'affinity_tester_server_tcp_replies_total 3',
    'affinity_tester_server_tcp_drops_total{reason="not-binding-request"} 1',
  ]);
  t.match(text, /^affinity_tester_server_tcp_connections_closed_total\{reason="idle"\} 0$/m, 'every reason is there, at 0 until it happens');
  t.match(text, /^affinity_tester_server_tcp_connections_refused_total\{reason="bad-source"\} 0$/m);
});

t.test('createServerMetrics() without a TCP server has no TCP metrics', async (t) => {
  const udp = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-m' });
  t.teardown(() => udp.close());
  const text = await createServerMetrics(udp, { defaultMetrics: false }).metrics();
  t.notMatch(text, /tcp_/);
  t.match(text, /^affinity_tester_server_requests_total 0$/m);
});

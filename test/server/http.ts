import t from 'tap';
import { encodeBindingRequest } from '../../common/stun/codec.js';
import { encodeTransactionId } from '../../common/stun/transaction-id.js';
import { startHttpSidePort } from '../../server/http.js';
import { createServerMetrics } from '../../server/metrics.js';
import { startStunServer } from '../../server/udp-server.js';
import { openTestSocket } from '../fixtures/stun-client.js';

async function setUp(t: { teardown(fn: () => unknown): void }, healthy = () => true) {
  const stun = await startStunServer({ host: '127.0.0.1', port: 0, podName: 'pod-m' });
  const http = await startHttpSidePort({ host: '127.0.0.1', port: 0, registry: createServerMetrics(stun), healthy });
  t.teardown(async () => {
    await http.close();
    await stun.close();
  });
  return { stun, http, url: `http://127.0.0.1:${http.port}` };
}

t.test('GET /healthz answers 200 ok while serving and 503 once shutting down', async (t) => {
  let healthy = true;
  const { url } = await setUp(t, () => healthy);
  const ok = await fetch(`${url}/healthz`);
  t.equal(ok.status, 200);
  t.equal(await ok.text(), 'ok\n');
  healthy = false;
  const down = await fetch(`${url}/healthz`);
  t.equal(down.status, 503);
});

t.test('GET /metrics reports requests, replies, drops by reason and active sessions', async (t) => {
  const { stun, url } = await setUp(t);
  const client = await openTestSocket(4);
  t.teardown(() => client.close());
  await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(1, 0), size: 200 }), stun.port, '127.0.0.1');
  await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(2, 0), size: 200 }), stun.port, '127.0.0.1');
  await client.ask(Buffer.alloc(7), stun.port, '127.0.0.1', 200);
  const response = await fetch(`${url}/metrics`);
  t.equal(response.status, 200);
  t.match(response.headers.get('content-type'), /^text\/plain/);
  const text = await response.text();
  t.match(text, /^affinity_tester_server_requests_total 3$/m);
  t.match(text, /^affinity_tester_server_replies_total 2$/m);
  t.match(text, /^affinity_tester_server_drops_total\{reason="truncated"\} 1$/m);
  t.match(text, /^affinity_tester_server_drops_total\{reason="bad-fingerprint"\} 0$/m);
  t.match(text, /^affinity_tester_server_drops_total\{reason="send-backlog"\} 0$/m);
  t.match(text, /^affinity_tester_server_active_sessions 2$/m);
  t.match(text, /^affinity_tester_server_socket_buffer_bytes\{direction="receive"\} \d+$/m);
  t.match(text, /^process_resident_memory_bytes \d+/m, 'process metrics too');

  // A second scrape shows the live values, not a sum of scrapes.
  await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(1, 1), size: 200 }), stun.port, '127.0.0.1');
  const again = await (await fetch(`${url}/metrics`)).text();
  t.match(again, /^affinity_tester_server_requests_total 4$/m);
  t.match(again, /^affinity_tester_server_replies_total 3$/m);
});

t.test('an unknown path answers 404 and a POST 405', async (t) => {
  const { url } = await setUp(t);
  t.equal((await fetch(`${url}/nope`)).status, 404);
  t.equal((await fetch(`${url}/metrics`, { method: 'POST' })).status, 405);
});

t.test('startHttpSidePort() on a port in use rejects with BindError', async (t) => {
  const { http, stun } = await setUp(t);
  await t.rejects(startHttpSidePort({ host: '127.0.0.1', port: http.port, registry: createServerMetrics(stun), healthy: () => true }), {
    name: 'BindError',
    code: 'EADDRINUSE',
  });
});

import t from 'tap';
import { Counter, Registry } from 'prom-client';
import { startHttpSidePort } from '../../common/http.js';

async function setUp(t: { teardown(fn: () => unknown): void }, healthy = () => true) {
  const registry = new Registry();
  const requests = new Counter({ name: 'test_requests_total', help: 'Requests.', registers: [registry] });
  const http = await startHttpSidePort({ host: '127.0.0.1', port: 0, registry, healthy });
  t.teardown(() => http.close());
  return { http, registry, requests, url: `http://127.0.0.1:${http.port}` };
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
  t.equal(await down.text(), 'shutting down\n');
});

t.test('GET /metrics answers the registry\'s text with its content type, live at each scrape', async (t) => {
  const { url, registry, requests } = await setUp(t);
  requests.inc(3);
  const response = await fetch(`${url}/metrics`);
  t.equal(response.status, 200);
  t.equal(response.headers.get('content-type'), registry.contentType);
  t.equal(await response.text(), await registry.metrics());
  requests.inc();
  t.match(await (await fetch(`${url}/metrics?x=1`)).text(), /^test_requests_total 4$/m, 'a query string is ignored');
});

t.test('an unknown path answers 404 and a POST 405', async (t) => {
  const { url } = await setUp(t);
  t.equal((await fetch(`${url}/nope`)).status, 404);
  t.equal((await fetch(`${url}/metrics`, { method: 'POST' })).status, 405);
});

t.test('startHttpSidePort() on a port in use rejects with BindError naming HTTP', async (t) => {
  const { http, registry } = await setUp(t);
  await t.rejects(startHttpSidePort({ host: '127.0.0.1', port: http.port, registry, healthy: () => true }), {
    name: 'BindError',
    code: 'EADDRINUSE',
    message: `HTTP 127.0.0.1:${http.port} is already in use`,
  });
});

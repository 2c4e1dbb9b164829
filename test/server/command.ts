import t from 'tap';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { decodeBindingResponse, encodeBindingRequest } from '../../common/stun/codec.js';
import { encodeTransactionId } from '../../common/stun/transaction-id.js';
import { CLI_PATH, runCli } from '../fixtures/cli.js';
import { openTestSocket } from '../fixtures/stun-client.js';

interface LogLine {
  msg: string;
  [key: string]: unknown;
}

/** The test's environment without the variables the server reads. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['PORT', 'BIND_HOST', 'POD_NAME', 'MY_POD_NAME', 'NODE_NAME', 'MY_NODE_NAME', 'HTTP_PORT', 'LOG_LEVEL']) delete env[name];
  return env;
}

/** Starts `affinity-tester server`, resolves once it logged "server started". */
function startServer(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [CLI_PATH, 'server', ...args], {
    env: { ...cleanEnv(), NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const started = new Promise<LogLine>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const parsed = JSON.parse(line) as LogLine;
      lines.push(parsed);
      if (parsed.msg === 'server started') resolve(parsed);
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code} before starting: ${stderr}`)));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, lines, started, exited, stderr: () => stderr };
}

t.test('affinity-tester server answers STUN, serves /healthz, and on SIGTERM logs final counters and exits 0', async (t) => {
  const server = startServer(['--port', '0', '--http-port', '0', '--host', '127.0.0.1', '--node-name', 'node-9'], { MY_POD_NAME: 'pod-from-downward-api' });
  t.teardown(() => server.child.kill('SIGKILL'));
  const started = await server.started;
  const udp = started.udp as { port: number };
  const http = started.http as { port: number };
  t.equal(started.version, (await import('../../common/version.js')).VERSION);
  t.match(started.socketBuffers, { receive: Number, send: Number });
  t.equal(started.pod, 'pod-from-downward-api', 'MY_POD_NAME is read when POD_NAME is not set');
  t.equal(started.node, 'node-9');

  const client = await openTestSocket(4);
  t.teardown(() => client.close());
  const reply = await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(3, 0), size: 200 }), udp.port, '127.0.0.1');
  const decoded = decodeBindingResponse(reply!);
  t.equal(decoded.ok && decoded.response.podName, 'pod-from-downward-api');
  t.equal(decoded.ok && decoded.response.nodeName, 'node-9');
  await client.ask(Buffer.from('junk'), udp.port, '127.0.0.1', 200);
  t.equal((await fetch(`http://127.0.0.1:${http.port}/healthz`)).status, 200);

  server.child.kill('SIGTERM');
  const { code } = await server.exited;
  t.equal(code, 0);
  const stopped = server.lines.find((line) => line.msg === 'server stopped');
  t.match(stopped, { requests: 2, replies: 1, drops: { 'not-stun': 1 } });
  t.ok(server.lines.some((line) => line.msg === 'new session'), 'the new session was logged');
  t.equal(server.stderr(), '');
});

t.test('affinity-tester server takes PORT, POD_NAME and HTTP_PORT=off from the environment, and stops on SIGINT', async (t) => {
  const probe = createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const port = probe.address().port;
  probe.close();
  const server = startServer(['--host', '127.0.0.1'], { PORT: String(port), POD_NAME: 'env-pod', HTTP_PORT: 'off' });
  t.teardown(() => server.child.kill('SIGKILL'));
  const started = await server.started;
  t.same(started.udp, { address: '127.0.0.1', port });
  t.equal(started.http, 'off');
  t.equal(started.pod, 'env-pod');
  server.child.kill('SIGINT');
  t.equal((await server.exited).code, 0);
  t.ok(server.lines.some((line) => line.msg === 'server stopped'));
});

t.test('affinity-tester server on a UDP port in use prints one line and exits 2', async (t) => {
  const holder = createSocket('udp4');
  await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', resolve));
  t.teardown(() => holder.close());
  const result = await runCli(['server', '--host', '127.0.0.1', '--port', String(holder.address().port), '--http-port', 'off']);
  t.equal(result.code, 2);
  t.equal(result.stderr, `affinity-tester: UDP 127.0.0.1:${holder.address().port} is already in use\n`);
});

t.test('affinity-tester server on an HTTP port in use prints one line and exits 2', async (t) => {
  const other = startServer(['--port', '0', '--http-port', '0', '--host', '127.0.0.1']);
  t.teardown(() => other.child.kill('SIGKILL'));
  const httpPort = ((await other.started).http as { port: number }).port;
  const result = await runCli(['server', '--host', '127.0.0.1', '--port', '0', '--http-port', String(httpPort)]);
  t.equal(result.code, 2);
  t.equal(result.stderr, `affinity-tester: HTTP 127.0.0.1:${httpPort} is already in use\n`);
  other.child.kill('SIGTERM');
  await other.exited;
});

t.test('affinity-tester server with a bad flag value prints one line (plus the usage hint) and exits 2', async (t) => {
  for (const args of [
    ['--port', '65536', '--http-port', 'off'],
    ['--port', 'abc', '--http-port', 'off'],
    ['--port', '0', '--http-port', '-1'],
    ['--port', '0', '--http-port', 'off', '--log-level', 'loud'],
    ['--port', '0', '--http-port', 'off', '--session-idle', 'forever'],
    ['--port', '0', '--http-port', 'off', '--host', 'nowhere.example'],
    ['--port', '0', '--http-port', 'off', '--no-such-flag'],
    ['--port', '0', '--http-port', 'off', '--pod-name', 'p'.repeat(254)],
  ]) {
    const result = await runCli(['server', ...args], { timeoutMs: 10_000 });
    t.equal(result.code, 2, args.join(' '));
    t.match(result.stderr, /^affinity-tester: /, args.join(' '));
    t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
  }
});

t.test('affinity-tester server with PORT out of range in the environment exits 2', async (t) => {
  const result = await runCli(['server'], { env: { PORT: '99999' } });
  t.equal(result.code, 2);
  t.match(result.stderr, /^affinity-tester: error: option '--port <port>' value '99999' from env 'PORT' is invalid/);
});

t.test('affinity-tester server --help lists every flag with its environment variable', async (t) => {
  const result = await runCli(['server', '--help']);
  t.equal(result.code, 0);
  for (const env of ['SHUTDOWN_DELAY', 'PORT', 'BIND_HOST', 'POD_NAME', 'MY_POD_NAME', 'NODE_NAME', 'HTTP_PORT', 'LOG_LEVEL', 'RECV_BUFFER_BYTES', 'SEND_BUFFER_BYTES', 'MAX_SESSIONS', 'SESSION_IDLE', 'SUMMARY_INTERVAL']) {
    t.match(result.stdout, new RegExp(`\\b${env}\\b`), env);
  }
});

t.test('affinity-tester server --shutdown-delay keeps answering after SIGTERM with /healthz failing, then stops', async (t) => {
  const server = startServer(['--port', '0', '--http-port', '0', '--host', '127.0.0.1', '--shutdown-delay', '600ms']);
  t.teardown(() => server.child.kill('SIGKILL'));
  const started = await server.started;
  const udp = started.udp as { port: number };
  const http = started.http as { port: number };
  server.child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal((await fetch(`http://127.0.0.1:${http.port}/healthz`)).status, 503, 'not ready any more');
  const client = await openTestSocket(4);
  t.teardown(() => client.close());
  t.ok(await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(8, 0) }), udp.port, '127.0.0.1'), 'still answering');
  const { code } = await server.exited;
  t.equal(code, 0);
  t.match(server.lines.find((line) => line.msg === 'server stopped'), { requests: 1, replies: 1 });
});

t.test('a second signal during --shutdown-delay stops the server at once', async (t) => {
  const server = startServer(['--port', '0', '--http-port', 'off', '--host', '127.0.0.1', '--shutdown-delay', '1m']);
  t.teardown(() => server.child.kill('SIGKILL'));
  await server.started;
  server.child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 200));
  const before = Date.now();
  server.child.kill('SIGINT');
  t.equal((await server.exited).code, 0);
  t.ok(Date.now() - before < 5000, 'did not wait the minute');
});

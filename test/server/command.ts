import t from 'tap';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { decodeBindingResponse, encodeBindingRequest } from '../../common/stun/codec.js';
import { encodeTransactionId } from '../../common/stun/transaction-id.js';
import { CLI_PATH, runCli } from '../fixtures/cli.js';
import { openTestSocket } from '../fixtures/stun-client.js';
import { connectTcpTestClient } from '../fixtures/stun-tcp-client.js';
import { tcpOption } from '../../server/command.js';

interface LogLine {
  msg: string;
  [key: string]: unknown;
}

/** The test's environment without the variables the server reads. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['PORT', 'BIND_HOST', 'POD_NAME', 'MY_POD_NAME', 'NODE_NAME', 'MY_NODE_NAME', 'HTTP_PORT', 'LOG_LEVEL', 'TCP', 'TCP_IDLE', 'MAX_CONNECTIONS']) delete env[name];
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
    ['--port', '0', '--http-port', 'off', '--tcp-idle', '0s'],
    ['--port', '0', '--http-port', 'off', '--max-connections', '0'],
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
  for (const env of ['SHUTDOWN_DELAY', 'PORT', 'BIND_HOST', 'POD_NAME', 'MY_POD_NAME', 'NODE_NAME', 'HTTP_PORT', 'LOG_LEVEL', 'RECV_BUFFER_BYTES', 'SEND_BUFFER_BYTES', 'MAX_SESSIONS', 'SESSION_IDLE', 'SUMMARY_INTERVAL', 'TCP', 'TCP_IDLE', 'MAX_CONNECTIONS']) {
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

/** 'connected' (then closed at once) or the error code of a TCP connect to 127.0.0.1:`port`. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const probe = connect({ port, host: '127.0.0.1' });
    probe.once('connect', () => {
      probe.destroy();
      resolve('connected');
    });
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

t.test('affinity-tester server answers STUN over TCP on the UDP port, and logs the TCP counters when it stops', async (t) => {
  const server = startServer(['--port', '0', '--http-port', 'off', '--host', '127.0.0.1', '--pod-name', 'pod-tcp', '--max-connections', '7']);
  t.teardown(() => server.child.kill('SIGKILL'));
  const started = await server.started;
  const udp = started.udp as { port: number };
  t.same(started.tcp, { address: '127.0.0.1', port: udp.port, maxConnections: 7, idleMs: 300_000 });
  const client = await connectTcpTestClient(udp.port, '127.0.0.1');
  for (let sequence = 0; sequence < 2; sequence++) {
    const decoded = decodeBindingResponse((await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(4, sequence) })))!);
    t.same(decoded.ok && [decoded.response.podName, decoded.response.sessionRequestCount], ['pod-tcp', sequence + 1]);
  }
  client.socket.end();
  await client.closed;
  server.child.kill('SIGTERM');
  t.equal((await server.exited).code, 0);
  const stopped = server.lines.find((line) => line.msg === 'server stopped');
  t.match(stopped, { requests: 0, tcp: { accepted: 1, requests: 2, replies: 2, refused: {}, closed: { 'client-closed': 1 }, drops: {} } });
});

t.test('affinity-tester server --no-tcp, or TCP=off, answers on UDP only', async (t) => {
  for (const [args, env] of [
    [['--no-tcp'], {}],
    [[], { TCP: 'off' }],
  ] as const) {
    const server = startServer(['--port', '0', '--http-port', 'off', '--host', '127.0.0.1', ...args], env);
    t.teardown(() => server.child.kill('SIGKILL'));
    const started = await server.started;
    t.equal(started.tcp, 'off', args.join(' ') || 'TCP=off');
    t.equal(await tryConnect((started.udp as { port: number }).port), 'ECONNREFUSED', 'nothing listens on TCP');
    server.child.kill('SIGTERM');
    await server.exited;
  }
});

t.test('tcpOption(): the flag wins, then TCP on/off (true/false, 1/0, yes/no), empty is the default on, anything else a usage error', async (t) => {
  t.equal(tcpOption(false, 'on'), false);
  t.equal(tcpOption(true, 'off'), true);
  t.equal(tcpOption(undefined, undefined), true);
  t.equal(tcpOption(undefined, ''), true);
  t.same(['on', 'TRUE', '1', 'yes', 'off', 'False', '0', 'no'].map((value) => tcpOption(undefined, value)), [true, true, true, true, false, false, false, false]);
  t.throws(() => tcpOption(undefined, 'maybe'), { name: 'UsageError', message: 'TCP must be on or off, got "maybe".' });
});

t.test('affinity-tester server on a TCP port in use (its UDP port free) prints one line and exits 2', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => holder.close());
  const port = (holder.address() as { port: number }).port;
  const result = await runCli(['server', '--host', '127.0.0.1', '--port', String(port), '--http-port', 'off']);
  t.equal(result.code, 2);
  t.equal(result.stderr, `affinity-tester: TCP 127.0.0.1:${port} is already in use\n`);
});

t.test('affinity-tester server --shutdown-delay drains TCP: open connections answered, new ones refused, then closed', async (t) => {
  const server = startServer(['--port', '0', '--http-port', 'off', '--host', '127.0.0.1', '--shutdown-delay', '1m']);
  t.teardown(() => server.child.kill('SIGKILL'));
  const port = ((await server.started).udp as { port: number }).port;
  const client = await connectTcpTestClient(port, '127.0.0.1');
  await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(6, 0) }));
  server.child.kill('SIGTERM');
  // The drain has begun once new connections are refused; until then a connect may still be taken.
  while ((await tryConnect(port)) !== 'ECONNREFUSED');
  const decoded = decodeBindingResponse((await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(6, 1) })))!);
  t.equal(decoded.ok && decoded.response.sessionRequestCount, 2, 'still answered during the delay');
  server.child.kill('SIGINT');
  t.equal(await client.closed, 'closed', 'closed by the server at the end of the drain');
  t.equal((await server.exited).code, 0);
  t.match(server.lines.find((line) => line.msg === 'server stopped'), { tcp: { replies: 2, closed: { shutdown: 1 } } });
});

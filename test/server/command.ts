import t from 'tap';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { Command, CommanderError } from 'commander';
import type { CommandIo } from '../../common/command-io.js';
import { SetupError, UsageError } from '../../common/errors.js';
import { decodeBindingResponse, encodeBindingRequest } from '../../common/stun/codec.js';
import { encodeTransactionId } from '../../common/stun/transaction-id.js';
import { VERSION } from '../../common/version.js';
import { registerServerCommand } from '../../server/command.js';
import { CLI_PATH } from '../fixtures/cli.js';
import { openTestSocket } from '../fixtures/stun-client.js';
import { connectTcpTestClient } from '../fixtures/stun-tcp-client.js';
import { tcpOption } from '../../server/command.js';

interface LogLine {
  msg: string;
  [key: string]: unknown;
}

/** The variables the server reads, so the environment of whoever runs the tests cannot leak in. */
const SERVER_VARIABLES = ['PORT', 'BIND_HOST', 'POD_NAME', 'MY_POD_NAME', 'NODE_NAME', 'MY_NODE_NAME', 'HTTP_PORT', 'LOG_LEVEL', 'RECV_BUFFER_BYTES', 'SEND_BUFFER_BYTES', 'MAX_SESSIONS', 'SESSION_IDLE', 'SUMMARY_INTERVAL', 'SHUTDOWN_DELAY', 'TCP', 'TCP_IDLE', 'MAX_CONNECTIONS'];
// commander reads option variables from process.env itself: clear them for the in-process runs.
for (const name of SERVER_VARIABLES) delete process.env[name];

// In-process: `affinity-tester server` registered on a program of its own, with a fake CommandIo.
// Only runs that end before the server waits for a signal (bad flags, unusable ports) go this way.

function fakeIo(): CommandIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (text: string) => void (io.stdout += text),
    err: (text: string) => void (io.stderr += text),
    env: {},
    isTTY: false,
    setExitCode: () => {},
  };
  return io;
}

/** Runs `server ...args` in-process; resolves with what it threw (it must throw) and what it wrote. */
async function serverFails(args: string[]): Promise<{ error: unknown; io: ReturnType<typeof fakeIo> }> {
  const io = fakeIo();
  const program = new Command().exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
  registerServerCommand(program, io);
  try {
    await program.parseAsync(['server', ...args], { from: 'user' });
  } catch (error) {
    return { error, io };
  }
  throw new Error(`server ${args.join(' ')} did not fail`);
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

t.test('server on a UDP port in use throws SetupError port-in-use and logs nothing', async (t) => {
  const holder = createSocket('udp4');
  await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', resolve));
  t.teardown(() => holder.close());
  const port = holder.address().port;
  const { error, io } = await serverFails(['--host', '127.0.0.1', '--port', String(port), '--http-port', 'off']);
  t.match(error, { constructor: SetupError, kind: 'port-in-use', message: `UDP 127.0.0.1:${port} is already in use` });
  t.equal(io.stdout, '');
});

t.test('server on an HTTP port in use throws SetupError port-in-use and releases the UDP port it had bound', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => holder.close());
  const httpPort = (holder.address() as { port: number }).port;
  const udpPort = await freeUdpPort();
  const { error } = await serverFails(['--host', '127.0.0.1', '--port', String(udpPort), '--http-port', String(httpPort)]);
  t.match(error, { constructor: SetupError, kind: 'port-in-use', message: `HTTP 127.0.0.1:${httpPort} is already in use` });
  const again = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    again.once('error', reject);
    again.bind(udpPort, '127.0.0.1', resolve);
  });
  again.close();
  t.pass(`UDP ${udpPort} is free again`);
});

t.test('server on an address this machine does not have throws SetupError socket-open', async (t) => {
  const { error } = await serverFails(['--host', '192.0.2.77', '--port', '0', '--http-port', 'off']);
  t.match(error, { constructor: SetupError, kind: 'socket-open', message: 'UDP 192.0.2.77:0 cannot be bound (EADDRNOTAVAIL)' });
});

t.test('server --tcp-idle 0s throws UsageError', async (t) => {
  const { error } = await serverFails(['--port', '0', '--http-port', 'off', '--tcp-idle', '0s']);
  t.match(error, { constructor: UsageError, message: '--tcp-idle must be longer than 0.' });
});

t.test('server on a TCP port in use (its UDP port free) throws SetupError port-in-use', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.teardown(() => holder.close());
  const port = (holder.address() as { port: number }).port;
  const { error } = await serverFails(['--host', '127.0.0.1', '--port', String(port), '--http-port', 'off']);
  t.match(error, { constructor: SetupError, kind: 'port-in-use', message: `TCP 127.0.0.1:${port} is already in use` });
});

t.test('tcpOption(): the flag wins, then TCP on/off (true/false, 1/0, yes/no), empty is the default on, anything else a usage error', async (t) => {
  t.equal(tcpOption(false, 'on'), false);
  t.equal(tcpOption(true, 'off'), true);
  t.equal(tcpOption(undefined, undefined), true);
  t.equal(tcpOption(undefined, ''), true);
  t.same(['on', 'TRUE', '1', 'yes', 'off', 'False', '0', 'no'].map((value) => tcpOption(undefined, value)), [true, true, true, true, false, false, false, false]);
  t.throws(() => tcpOption(undefined, 'maybe'), { name: 'UsageError', message: 'TCP must be on or off, got "maybe".' });
});

t.test('server --session-idle 0 throws UsageError', async (t) => {
  const { error } = await serverFails(['--port', '0', '--http-port', 'off', '--session-idle', '0']);
  t.match(error, { constructor: UsageError, message: '--session-idle must be longer than 0.' });
});

t.test('server with a bad flag value fails in the parser with one error line naming the flag', async (t) => {
  for (const [args, code, flag] of [
    [['--port', '65536'], 'commander.invalidArgument', '--port <port>'],
    [['--port', 'abc'], 'commander.invalidArgument', '--port <port>'],
    [['--http-port', '-1'], 'commander.invalidArgument', '--http-port <port>'],
    [['--log-level', 'loud'], 'commander.invalidArgument', '--log-level <level>'],
    [['--session-idle', 'forever'], 'commander.invalidArgument', '--session-idle <duration>'],
    [['--host', 'nowhere.example'], 'commander.invalidArgument', '--host <address>'],
    [['--pod-name', 'p'.repeat(254)], 'commander.invalidArgument', '--pod-name <name>'],
    [['--max-connections', '0'], 'commander.invalidArgument', '--max-connections <n>'],
    [['--no-such-flag'], 'commander.unknownOption', '--no-such-flag'],
  ] as const) {
    const label = args.join(' ').slice(0, 40);
    const { error, io } = await serverFails(['--http-port', 'off', ...args]);
    t.match(error, { constructor: CommanderError, code, exitCode: 1 }, label);
    t.equal(io.stderr.split('\n').length, 2, `${label}: one line`);
    t.match(io.stderr, `'${flag}'`, `${label}: names the flag`);
  }
});

t.test('server with PORT out of range in the environment fails in the parser, naming the variable', async (t) => {
  process.env.PORT = '99999';
  t.teardown(() => void delete process.env.PORT);
  const { error, io } = await serverFails(['--http-port', 'off']);
  t.match(error, { constructor: CommanderError, code: 'commander.invalidArgument' });
  t.match(io.stderr, /^error: option '--port <port>' value '99999' from env 'PORT' is invalid/);
});

t.test('server --help lists every flag with its environment variable', async (t) => {
  const { error, io } = await serverFails(['--help']);
  t.match(error, { constructor: CommanderError, code: 'commander.helpDisplayed', exitCode: 0 });
  for (const name of [...SERVER_VARIABLES.filter((name) => !name.startsWith('MY_')), 'MY_POD_NAME', 'MY_NODE_NAME']) {
    t.match(io.stdout, new RegExp(`\\b${name}\\b`), name);
  }
});

// Spawned: what only a process shows (signals, the exit code, the log lines on its stdout).

/** Starts `affinity-tester server`; `line(msg)` resolves with the first log line saying `msg`. */
function startServer(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [CLI_PATH, 'server', ...args], {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiting: { msg: string; resolve: (line: LogLine) => void }[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as LogLine;
    lines.push(line);
    for (const waiter of waiting) if (waiter.msg === line.msg) waiter.resolve(line);
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const line = (msg: string): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const seen = lines.find((l) => l.msg === msg);
      if (seen) return resolve(seen);
      waiting.push({ msg, resolve });
      void exited.then((code) => reject(new Error(`server exited ${code} before logging "${msg}": ${stderr}`)));
    });
  return { child, lines, line, exited, stderr: () => stderr };
}

t.test('affinity-tester server answers STUN, serves /healthz, and on SIGTERM logs final counters and exits 0', async (t) => {
  const server = startServer(['--port', '0', '--http-port', '0', '--host', '127.0.0.1', '--node-name', 'node-9'], { MY_POD_NAME: 'pod-from-downward-api' });
  t.teardown(() => server.child.kill('SIGKILL'));
  const started = await server.line('server started');
  const udp = started.udp as { port: number };
  const http = started.http as { port: number };
  t.equal(started.version, VERSION);
  t.match(started.socketBuffers, { receive: Number, send: Number });
  t.equal(started.pod, 'pod-from-downward-api', 'MY_POD_NAME is read when POD_NAME is not set');
  t.equal(started.node, 'node-9');

  const client = await openTestSocket(4);
  t.teardown(() => client.close());
  const reply = await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(3, 0), size: 200 }), udp.port, '127.0.0.1');
  const decoded = decodeBindingResponse(reply!);
  t.equal(decoded.ok && decoded.response.podName, 'pod-from-downward-api');
  t.equal(decoded.ok && decoded.response.nodeName, 'node-9');
  client.socket.send(Buffer.from('junk'), udp.port, '127.0.0.1');
  t.equal((await fetch(`http://127.0.0.1:${http.port}/healthz`)).status, 200);
  // Wait for the junk itself, as the server's own /metrics counts it, not for a time.
  const counted = async (): Promise<boolean> => (await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text()).includes('drops_total{reason="not-stun"} 1');
  for (const deadline = Date.now() + 5000; !(await counted()) && Date.now() < deadline; );

  server.child.kill('SIGTERM');
  t.equal(await server.exited, 0);
  t.same(server.lines.map((line) => line.msg), ['server started', 'new session', 'shutting down', 'server stopped']);
  t.match(server.lines[2], { signal: 'SIGTERM' });
  t.match(server.lines[3], { requests: 2, replies: 1, drops: { 'not-stun': 1 }, sendBacklogDrops: 0, activeSessions: 1 });
  t.equal(server.stderr(), '');
});

t.test('affinity-tester server takes PORT, POD_NAME and HTTP_PORT=off from the environment, and stops on SIGINT', async (t) => {
  const port = await freeUdpPort();
  const server = startServer(['--host', '127.0.0.1'], { PORT: String(port), POD_NAME: 'env-pod', HTTP_PORT: 'off' });
  t.teardown(() => server.child.kill('SIGKILL'));
  const started = await server.line('server started');
  t.same(started.udp, { address: '127.0.0.1', port });
  t.equal(started.http, 'off');
  t.equal(started.pod, 'env-pod');
  server.child.kill('SIGINT');
  t.equal(await server.exited, 0);
  t.same(server.lines.map((line) => line.msg), ['server started', 'shutting down', 'server stopped']);
  t.match(server.lines[1], { signal: 'SIGINT' });
});

t.test('affinity-tester server --shutdown-delay keeps answering after SIGTERM with /healthz failing; a second signal stops it at once', async (t) => {
  const server = startServer(['--port', '0', '--http-port', '0', '--host', '127.0.0.1', '--shutdown-delay', '1m']);
  t.teardown(() => server.child.kill('SIGKILL'));
  const started = await server.line('server started');
  const udp = started.udp as { port: number };
  const http = started.http as { port: number };
  server.child.kill('SIGTERM');
  t.match(await server.line('shutting down after the delay; /healthz now fails'), { signal: 'SIGTERM', shutdownDelayMs: 60_000 });
  t.equal((await fetch(`http://127.0.0.1:${http.port}/healthz`)).status, 503, 'not ready any more');
  const client = await openTestSocket(4);
  t.teardown(() => client.close());
  t.ok(await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(8, 0) }), udp.port, '127.0.0.1'), 'still answering');
  server.child.kill('SIGINT');
  t.equal(await server.exited, 0);
  t.match(server.lines.at(-2), { msg: 'shutting down', signal: 'SIGINT' }, 'the second signal, not the minute, ended the delay');
  t.match(server.lines.at(-1), { msg: 'server stopped', requests: 1, replies: 1 });
});

t.test('affinity-tester server --shutdown-delay stops by itself once the delay has passed', async (t) => {
  const server = startServer(['--port', '0', '--http-port', 'off', '--host', '127.0.0.1', '--shutdown-delay', '100ms']);
  t.teardown(() => server.child.kill('SIGKILL'));
  await server.line('server started');
  server.child.kill('SIGTERM');
  t.equal(await server.exited, 0);
  t.same(server.lines.map((line) => line.msg), ['server started', 'shutting down after the delay; /healthz now fails', 'shutting down', 'server stopped']);
  t.notOk('signal' in server.lines[2]!, 'no signal ended the delay');
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
  const started = await server.line('server started');
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
  t.equal(await server.exited, 0);
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
    const started = await server.line('server started');
    t.equal(started.tcp, 'off', args.join(' ') || 'TCP=off');
    t.equal(await tryConnect((started.udp as { port: number }).port), 'ECONNREFUSED', 'nothing listens on TCP');
    server.child.kill('SIGTERM');
    await server.exited;
  }
});

t.test('affinity-tester server --shutdown-delay drains TCP: open connections answered, new ones refused, then closed', async (t) => {
  const server = startServer(['--port', '0', '--http-port', 'off', '--host', '127.0.0.1', '--shutdown-delay', '1m']);
  t.teardown(() => server.child.kill('SIGKILL'));
  const port = ((await server.line('server started')).udp as { port: number }).port;
  const client = await connectTcpTestClient(port, '127.0.0.1');
  await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(6, 0) }));
  server.child.kill('SIGTERM');
  await server.line('shutting down after the delay; /healthz now fails');
  t.equal(await tryConnect(port), 'ECONNREFUSED', 'new connections refused once the drain has begun');
  const decoded = decodeBindingResponse((await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(6, 1) })))!);
  t.equal(decoded.ok && decoded.response.sessionRequestCount, 2, 'still answered during the delay');
  server.child.kill('SIGINT');
  t.equal(await client.closed, 'closed', 'closed by the server at the end of the drain');
  t.equal(await server.exited, 0);
  t.match(server.lines.find((line) => line.msg === 'server stopped'), { tcp: { replies: 2, closed: { shutdown: 1 } } });
});

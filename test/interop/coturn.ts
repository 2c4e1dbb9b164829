// Interop with coturn (Debian package coturn): its STUN client against our server, and our
// decoder against its server. Skipped, with a message, where coturn is not installed.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pino } from 'pino';
import { decodeBindingResponse, encodeBindingRequest } from '../../common/stun/codec.js';
import { encodeTransactionId } from '../../common/stun/transaction-id.js';
import { startStunServer } from '../../server/udp-server.js';
import { openTestSocket } from '../fixtures/stun-client.js';

function findBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function run(file: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function freeUdpPort(host: string): Promise<number> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

const stunClient = findBinary('turnutils_stunclient');
const turnserver = findBinary('turnserver');

t.test('turnutils_stunclient against our server reports the right reflexive address', { skip: stunClient ? false : 'turnutils_stunclient not installed (Debian package coturn)' }, async (t) => {
  for (const host of ['127.0.0.1', '::1']) {
    const seen: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void seen.push(JSON.parse(line).from) });
    const server = await startStunServer({ host, port: 0, podName: 'pod-interop', logger, summaryIntervalMs: 0 });
    const result = await run(stunClient!, ['-p', String(server.port), host], 10_000);
    await server.close();
    t.equal(result.code, 0, `${host}: exit code (stderr: ${result.stderr.trim()})`);
    const match = /UDP reflexive addr: (\S+)/.exec(result.stdout);
    t.ok(match, `${host}: a reflexive address in ${JSON.stringify(result.stdout)}`);
    const from = seen.find((endpoint) => endpoint !== undefined);
    const expected = host.includes(':') ? new RegExp(`^\\[?${host.replace(/[.:]/g, '\\$&')}\\]?:\\d+$`) : /^127\.0\.0\.1:\d+$/;
    t.match(match?.[1], expected, `${host}: the client's own address`);
    t.equal(match?.[1].replace(/^\[|\](?=:)/g, ''), from?.replace(/^\[|\](?=:)/g, ''), `${host}: the address the server saw the request come from`);
    t.ok(server.counters.replies >= 1, `${host}: the server replied`);
    t.equal(server.counters.replies, server.counters.requests, `${host}: every coturn request was valid STUN to us`);
  }
});

t.test('our decoder reads coturn turnserver --stun-only replies', { skip: turnserver ? false : 'turnserver not installed (Debian package coturn)' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'affinity-coturn-'));
  const port = await freeUdpPort('127.0.0.1');
  // -n: no config file; a private pid file and database; no CLI, TLS or DTLS listeners.
  const child = spawn(
    turnserver!,
    [
      '-n',
      '--stun-only',
      '--no-cli',
      '--no-tls',
      '--no-dtls',
      '--listening-ip',
      '127.0.0.1',
      '--listening-port',
      String(port),
      '--log-file',
      'stdout',
      '--simple-log',
      '--pidfile',
      join(dir, 'turnserver.pid'),
      '--db',
      join(dir, 'turndb'),
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  t.teardown(async () => {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });

  const client = await openTestSocket(4);
  t.teardown(() => client.close());
  // turnserver takes a moment to open its listener: retry until it answers (5 s at most).
  let first: Buffer | undefined;
  for (let attempt = 0; attempt < 25 && first === undefined; attempt++) {
    first = await client.ask(encodeBindingRequest({ transactionId: encodeTransactionId(1, attempt) }), port, '127.0.0.1', 200);
  }
  t.ok(first, 'turnserver answered');

  for (const size of [undefined, 120]) {
    const transactionId = encodeTransactionId(0xfeed00000001, 77);
    const reply = await client.ask(encodeBindingRequest({ transactionId, size, software: 'affinity-tester-test' }), port, '127.0.0.1');
    t.ok(reply, `reply to a request of size ${size ?? 'minimal'}`);
    const decoded = decodeBindingResponse(reply!);
    t.ok(decoded.ok, `decoded (${decoded.ok ? 'ok' : decoded.reason})`);
    if (!decoded.ok) continue;
    t.same(decoded.response.transactionId, transactionId, 'coturn echoes the transaction id (session id, sequence)');
    t.same(decoded.response.mappedAddress, { family: 4, address: '127.0.0.1', port: client.port });
    t.equal(decoded.response.podName, undefined, 'no pod name from a plain STUN server');
  }
});

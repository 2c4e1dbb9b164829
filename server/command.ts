// `affinity-tester server`: the STUN-compatible server every pod runs (UDP, and TCP on the same
// port), with its HTTP side port. Flags and environment variables in, a running server out;
// exits 0 on SIGTERM/SIGINT.
import { hostname } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { pino, type Logger } from 'pino';
import type { CommandIo } from '../common/command-io.js';
import { BindError, ExitCode, SetupError, UsageError } from '../common/errors.js';
import { startHttpSidePort, type HttpSidePort } from '../common/http.js';
import { parseIp } from '../common/ip-address.js';
import { DEFAULT_STUN_PORT } from '../common/stun/constants.js';
import { LOG_LEVELS, durationOption, integerOption, portOption } from '../common/options.js';
import { VERSION } from '../common/version.js';
import { totalsOf } from './counter-summary.js';
import { createServerMetrics } from './metrics.js';
import { DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE_MS } from './session-table.js';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_TCP_IDLE_MS, startTcpStunServer, type RunningTcpStunServer } from './tcp-server.js';
import {
  DEFAULT_RECV_BUFFER_BYTES,
  DEFAULT_SEND_BUFFER_BYTES,
  startStunServer,
  type RunningStunServer,
} from './udp-server.js';

interface ServerOptions {
  port: number;
  host?: string;
  podName?: string;
  nodeName?: string;
  httpPort: number | 'off';
  logLevel: string;
  recvBuffer: number;
  sendBuffer: number;
  maxSessions: number;
  sessionIdle: number;
  summaryInterval: number;
  shutdownDelay: number;
  tcp?: boolean;
  tcpIdle: number;
  maxConnections: number;
}

/** Pod and node names are DNS names (at most 253 bytes); a STUN attribute could carry more, but
 * a longer name is a configuration mistake worth reporting. */
function nameOption(value: string): string {
  if (Buffer.byteLength(value, 'utf8') > 253) throw new InvalidArgumentError('expected at most 253 bytes (a Kubernetes name).');
  return value;
}

function ipOption(value: string): string {
  if (parseIp(value) === undefined) throw new InvalidArgumentError('expected an IP address such as 0.0.0.0, :: or 10.0.0.7.');
  return value;
}

function httpPortOption(value: string): number | 'off' {
  if (value.trim().toLowerCase() === 'off') return 'off';
  try {
    return portOption(value);
  } catch {
    throw new InvalidArgumentError('expected a port number from 0 to 65535, or "off".');
  }
}

export function registerServerCommand(program: Command, io: CommandIo): void {
  program
    .command('server')
    .description('run the STUN-compatible server a pod runs, on UDP and TCP (RFC 8489 Binding, with pod, node and request counter)')
    .addOption(new Option('--port <port>', 'port to answer STUN on, UDP and TCP (0 = any free port)').env('PORT').default(DEFAULT_STUN_PORT).argParser(portOption))
    .addOption(
      new Option('--host <address>', 'IP address to bind; default :: (IPv4 and IPv6), or 0.0.0.0 where IPv6 is missing')
        .env('BIND_HOST')
        .argParser(ipOption),
    )
    .addOption(
      new Option('--pod-name <name>', 'pod name sent in replies (also read from MY_POD_NAME; default: the hostname)').env('POD_NAME').argParser(nameOption),
    )
    .addOption(new Option('--node-name <name>', 'node name sent in replies (also read from MY_NODE_NAME)').env('NODE_NAME').argParser(nameOption))
    .addOption(
      new Option('--http-port <port>', 'HTTP port for /healthz and /metrics (0 = any free port, "off" = no HTTP)')
        .env('HTTP_PORT')
        .default(8080)
        .argParser(httpPortOption),
    )
    .addOption(new Option('--log-level <level>', 'pino log level').env('LOG_LEVEL').choices(LOG_LEVELS).default('info'))
    .addOption(
      new Option('--recv-buffer <bytes>', 'UDP receive buffer (SO_RCVBUF) to ask for; the kernel caps it at net.core.rmem_max')
        .env('RECV_BUFFER_BYTES')
        .default(DEFAULT_RECV_BUFFER_BYTES)
        .argParser(integerOption(1024, 2 ** 31 - 1)),
    )
    .addOption(
      new Option('--send-buffer <bytes>', 'UDP send buffer (SO_SNDBUF) to ask for; capped at net.core.wmem_max')
        .env('SEND_BUFFER_BYTES')
        .default(DEFAULT_SEND_BUFFER_BYTES)
        .argParser(integerOption(1024, 2 ** 31 - 1)),
    )
    .addOption(
      new Option('--max-sessions <n>', 'most sessions whose request counters are kept (oldest evicted first)')
        .env('MAX_SESSIONS')
        .default(DEFAULT_MAX_SESSIONS)
        .argParser(integerOption(2, 100_000_000)),
    )
    .addOption(
      new Option('--session-idle <duration>', 'a session silent this long starts counting from 1 again')
        .env('SESSION_IDLE')
        .default(DEFAULT_SESSION_IDLE_MS, '5m')
        .argParser(durationOption),
    )
    .addOption(
      new Option('--summary-interval <duration>', 'log a counters summary this often (0 = never)')
        .env('SUMMARY_INTERVAL')
        .default(60_000, '60s')
        .argParser(durationOption),
    )
    .addOption(
      new Option(
        '--shutdown-delay <duration>',
        'on SIGTERM, keep answering this long with /healthz failing, so the pod leaves the Service first (a second signal stops at once)',
      )
        .env('SHUTDOWN_DELAY')
        .default(0, '0s')
        .argParser(durationOption),
    )
    .addOption(new Option('--tcp', 'also answer STUN over TCP on the same port (RFC 8489 section 6.2.2; default: on; env: TCP=on|off)'))
    .addOption(new Option('--no-tcp', 'answer on UDP only'))
    .addOption(
      new Option('--tcp-idle <duration>', 'close a TCP connection that sends no whole request for this long')
        .env('TCP_IDLE')
        .default(DEFAULT_TCP_IDLE_MS, '5m')
        .argParser(durationOption),
    )
    .addOption(
      new Option('--max-connections <n>', 'most TCP connections open at once; one more is reset and counted')
        .env('MAX_CONNECTIONS')
        .default(DEFAULT_MAX_CONNECTIONS)
        .argParser(integerOption(1, 1_000_000)),
    )
    .action(async (options: ServerOptions) => {
      await runServer(options, io);
      io.setExitCode(ExitCode.Ok);
    });
}

/** A socket that cannot be bound stops the run before it starts (the CLI says so, exit 2). */
function setupErrorOf(error: BindError): SetupError {
  return new SetupError(error.code === 'EADDRINUSE' ? 'port-in-use' : 'socket-open', error.message);
}

async function runServer(options: ServerOptions, io: CommandIo): Promise<void> {
  if (options.sessionIdle <= 0) throw new UsageError('--session-idle must be longer than 0.');
  if (options.tcpIdle <= 0) throw new UsageError('--tcp-idle must be longer than 0.');
  const tcpWanted = tcpOption(options.tcp, io.env.TCP);
  // An empty variable (POD_NAME= in a manifest) counts as unset.
  const podName = nonEmpty(options.podName) ?? nonEmpty(io.env.MY_POD_NAME) ?? hostname();
  const nodeName = nonEmpty(options.nodeName) ?? nonEmpty(io.env.MY_NODE_NAME);
  const logger: Logger = pino(
    { level: options.logLevel, base: { pod: podName, node: nodeName }, timestamp: pino.stdTimeFunctions.isoTime },
    // Each line written at once: the last ones (final counters) must be out before the process exits.
    { write: (line: string) => io.out(line) },
  );

  let stun: RunningStunServer;
  try {
    stun = await startStunServer({
      host: options.host,
      port: options.port,
      podName,
      nodeName,
      logger,
      recvBufferBytes: options.recvBuffer,
      sendBufferBytes: options.sendBuffer,
      maxSessions: options.maxSessions,
      sessionIdleMs: options.sessionIdle,
      summaryIntervalMs: options.summaryInterval,
    });
  } catch (error) {
    throw error instanceof BindError ? setupErrorOf(error) : error;
  }

  // Same address and port as UDP: one Service target port number serves both protocols.
  let tcp: RunningTcpStunServer | undefined;
  if (tcpWanted) {
    const tcpConfig = { host: stun.address, port: stun.port, podName, nodeName, logger, maxConnections: options.maxConnections, idleMs: options.tcpIdle };
    tcp = await startTcpStunServer(tcpConfig).catch(async (error: unknown) => {
      await stun.close();
      throw error instanceof BindError ? setupErrorOf(error) : error;
    });
  }

  let shuttingDown = false;
  let http: HttpSidePort | undefined;
  if (options.httpPort !== 'off') {
    try {
      http = await startHttpSidePort({
        host: stun.address,
        port: options.httpPort,
        registry: createServerMetrics(stun, { tcp }),
        healthy: () => !shuttingDown,
      });
    } catch (error) {
      await tcp?.close();
      await stun.close();
      throw error instanceof BindError ? setupErrorOf(error) : error;
    }
  }

  logger.info(
    {
      version: VERSION,
      udp: { address: stun.address, port: stun.port },
      tcp: tcp ? { address: tcp.address, port: tcp.port, maxConnections: options.maxConnections, idleMs: options.tcpIdle } : 'off',
      http: http ? { address: http.address, port: http.port } : 'off',
      socketBuffers: { receive: stun.bufferSizes.recv, send: stun.bufferSizes.send },
      requestedBuffers: { receive: options.recvBuffer, send: options.sendBuffer },
      fullReplyRequestSize: stun.fullReplySize,
      maxSessions: options.maxSessions,
      sessionIdleMs: options.sessionIdle,
    },
    'server started',
  );

  const signal = await nextSignal();
  shuttingDown = true;
  // Draining: new TCP connections are refused by the kernel, open ones are answered until the end.
  tcp?.stopAccepting();
  if (options.shutdownDelay > 0) {
    logger.info({ signal, shutdownDelayMs: options.shutdownDelay }, 'shutting down after the delay; /healthz now fails');
    const early = await nextSignal(options.shutdownDelay);
    logger.info(early ? { signal: early } : {}, 'shutting down');
  } else {
    logger.info({ signal }, 'shutting down');
  }
  await Promise.all([stun.close(), tcp?.close()]);
  await http?.close();
  logger.info(
    { ...totalsOf(stun.counters), activeSessions: stun.activeSessions(), ...(tcp ? { tcp: tcpSummary(tcp) } : {}) },
    'server stopped',
  );
}

/**
 * The next SIGTERM or SIGINT, or undefined after `timeoutMs` if given. Listeners and timer go
 * away either way, so nothing keeps the process alive afterwards.
 */
function nextSignal(timeoutMs?: number): Promise<NodeJS.Signals | undefined> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals | undefined): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      if (timer) clearTimeout(timer);
      resolve(signal);
    };
    const on = (signal: NodeJS.Signals): void => done(signal);
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => done(undefined), timeoutMs);
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

/** --tcp/--no-tcp win; then TCP (read here: commander takes any value of a flag's variable as "set"). */
export function tcpOption(flag: boolean | undefined, env: string | undefined): boolean {
  if (flag !== undefined) return flag;
  const raw = env?.trim().toLowerCase();
  if (raw === undefined || raw === '') return true;
  if (['on', 'true', '1', 'yes'].includes(raw)) return true;
  if (['off', 'false', '0', 'no'].includes(raw)) return false;
  throw new UsageError(`TCP must be on or off, got "${env}".`);
}

/** The TCP counters without the zeros, for the last log line. */
function tcpSummary(tcp: RunningTcpStunServer): Record<string, unknown> {
  const { accepted, requests, replies, refused, closed, drops } = tcp.counters;
  const nonZero = (record: Record<string, number>) => Object.fromEntries(Object.entries(record).filter(([, count]) => count > 0));
  return { accepted, requests, replies, refused: nonZero(refused), closed: nonZero(closed), drops: nonZero(drops) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

// The socket adapter around the Responder: binds a UDP socket, hands each datagram to the pure
// core, sends the reply. Everything that is not a socket lives in server/responder.ts.
import { createSocket, type Socket, type SocketOptions, type SocketType } from 'node:dgram';
import type { Logger } from 'pino';
import { monotonicClock, type Clock } from '../common/clock.js';
import { BindError } from '../common/errors.js';
import { parseIp, formatEndpoint } from '../common/ip-address.js';
import { DEFAULT_STUN_PORT } from '../common/stun/constants.js';
import { SOFTWARE } from '../common/version.js';
import { summaryOf, totalsOf } from './counter-summary.js';
import { NewSessionLogBudget } from './new-session-log.js';
import { Responder, type ResponderCounters } from './responder.js';

export interface StunServerConfig {
  /** Address to bind. Default `::` (dual-stack), falling back to 0.0.0.0 where IPv6 is missing. */
  host?: string;
  /** UDP port. Default 3478; 0 picks a free port (see RunningStunServer.port). */
  port?: number;
  podName: string;
  nodeName?: string;
  logger?: Logger;
  /** SO_RCVBUF to ask for. Default 4 MiB; Linux caps it at net.core.rmem_max (and doubles it). */
  recvBufferBytes?: number;
  /** SO_SNDBUF to ask for. Default 1 MiB; capped by net.core.wmem_max. */
  sendBufferBytes?: number;
  /** Session table cap (see server/session-table.ts). */
  maxSessions?: number;
  /** A session idle this long starts counting again from 1. */
  sessionIdleMs?: number;
  /** Log a summary of the counters this often; 0 turns it off. Default 60 s. */
  summaryIntervalMs?: number;
  /** At most this many "new session" log lines per second; the rest are counted. Default 20. */
  newSessionLogsPerSecond?: number;
  /** Milliseconds on a clock that never steps (idle expiry must not follow the wall clock). */
  clock?: Clock;
  /** What runs the summary every summaryIntervalMs; tests pass one they fire by hand. */
  ticker?: Ticker;
}

/** Calls `tick` every `ms` until the returned function is called. */
export type Ticker = (ms: number, tick: () => void) => () => void;

/** setInterval, not keeping the process alive for its sake. */
const intervalTicker: Ticker = (ms, tick) => {
  const timer = setInterval(tick, ms);
  timer.unref();
  return () => clearInterval(timer);
};

/**
 * Send failures are not counted: node:dgram reports them only to a per-datagram callback, which
 * costs a process.nextTick for every reply (a few percent of the server's capacity), and a reply
 * to the address a request just came from practically never fails.
 */
export interface ServerCounters extends ResponderCounters {
  /** Replies not sent because the socket's send queue was already too long (backpressure). */
  sendBacklogDrops: number;
}

export interface RunningStunServer {
  /** The address actually bound (`::`, `0.0.0.0`, `127.0.0.1`...). */
  address: string;
  port: number;
  /** Live counters, updated as datagrams arrive. */
  counters: ServerCounters;
  /** Effective socket buffer sizes as the kernel reports them. */
  bufferSizes: { recv: number; send: number };
  /** Request size that earns a reply with every attribute. */
  fullReplySize: number;
  activeSessions(): number;
  close(): Promise<void>;
}

export const DEFAULT_RECV_BUFFER_BYTES = 4 * 1024 * 1024;
export const DEFAULT_SEND_BUFFER_BYTES = 1024 * 1024;
/** Replies waiting in libuv beyond this are dropped rather than queued without bound. */
const MAX_SEND_QUEUE = 4096;

/** Binds the socket and starts answering. Rejects with BindError if the address is unusable. */
export async function startStunServer(config: StunServerConfig): Promise<RunningStunServer> {
  const port = config.port ?? DEFAULT_STUN_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new BindError(`port ${port} is not from 0 to 65535`, 'EINVAL');
  const logger = config.logger;
  let socket: Socket;
  if (config.host === undefined) {
    try {
      socket = await bindSocket('udp6', '::', port);
    } catch (error) {
      // No IPv6 in this pod (ipv6.disable=1 or no IPv6 address): serve IPv4 only.
      const code = (error as BindError).code;
      if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL' && code !== 'EPROTONOSUPPORT') throw error;
      logger?.warn({ code }, 'IPv6 unavailable, listening on IPv4 only');
      socket = await bindSocket('udp4', '0.0.0.0', port);
    }
  } else {
    const ip = parseIp(config.host);
    if (ip === undefined) throw new BindError(`host must be an IP address, got "${config.host}"`, 'EINVAL');
    socket = await bindSocket(config.host.includes(':') ? 'udp6' : 'udp4', config.host, port);
  }

  const bufferSizes = sizeBuffers(socket, config.recvBufferBytes ?? DEFAULT_RECV_BUFFER_BYTES, config.sendBufferBytes ?? DEFAULT_SEND_BUFFER_BYTES, logger);
  const responder = new Responder({
    identity: { software: SOFTWARE, podName: config.podName, nodeName: config.nodeName },
    maxEntries: config.maxSessions,
    idleMs: config.sessionIdleMs,
  });
  const counters: ServerCounters = Object.assign(responder.counters, { sendBacklogDrops: 0 });
  const bound = socket.address();
  const clock = config.clock ?? monotonicClock;
  const newSessionLog = new NewSessionLogBudget(config.newSessionLogsPerSecond ?? 20);

  socket.on('message', (datagram, rinfo) => {
    const now = clock();
    const result = responder.respond(datagram, rinfo.address, rinfo.port, now);
    if ('drop' in result) return;
    if (socket.getSendQueueCount() > MAX_SEND_QUEUE) {
      // The kernel is not taking replies as fast as we make them: drop instead of queueing
      // without bound (memory must stay flat), and count it as a drop, not a reply.
      counters.replies--;
      counters.sendBacklogDrops++;
      return;
    }
    socket.send(result.reply, rinfo.port, rinfo.address);
    if (result.sessionRequestCount === 1 && logger !== undefined) {
      const decision = newSessionLog.admit(now);
      if (decision.suppressed > 0) logger.info({ suppressed: decision.suppressed }, 'more new sessions not logged');
      if (decision.log) logger.info({ session: result.sessionId.toString(16).padStart(12, '0'), from: formatEndpoint(rinfo.address, rinfo.port) }, 'new session');
    }
  });
  socket.on('error', (error) => {
    // After bind, errors are per-datagram trouble (ICMP, ENOBUFS): log and keep serving.
    logger?.warn({ err: error.message }, 'socket error');
  });

  let stopSummary: (() => void) | undefined;
  const summaryIntervalMs = config.summaryIntervalMs ?? 60_000;
  if (logger !== undefined && summaryIntervalMs > 0) {
    let previous = totalsOf(counters);
    let previousAt = clock();
    stopSummary = (config.ticker ?? intervalTicker)(summaryIntervalMs, () => {
      const current = totalsOf(counters);
      const now = clock();
      logger.info({ ...summaryOf(previous, current, now - previousAt), activeSessions: responder.sessions.activeCount(now) }, 'summary');
      previous = current;
      previousAt = now;
    });
  }

  let closing: Promise<void> | undefined;
  return {
    address: bound.address,
    port: bound.port,
    counters,
    bufferSizes,
    fullReplySize: responder.fullReplySize(),
    activeSessions: () => responder.sessions.activeCount(clock()),
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        stopSummary?.();
        socket.close(() => resolve());
      });
      return closing;
    },
  };
}

/**
 * node:dgram passes every destination through dns.lookup, which even for an IP literal costs a
 * regular expression and a process.nextTick per datagram. We only ever send to the address a
 * request came from, and bind to an address checked by parseIp, so answer at once.
 */
function literalLookup(address: string, family: number, callback: (error: Error | null, address: string, family: number) => void): void {
  callback(null, address, family);
}

function bindSocket(type: SocketType, host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let socket: Socket;
    try {
      socket = createSocket({ type, ipv6Only: false, reuseAddr: false, lookup: literalLookup as unknown as SocketOptions['lookup'] });
    } catch (error) {
      reject(new BindError(`cannot create a ${type} socket: ${(error as Error).message}`, (error as NodeJS.ErrnoException).code));
      return;
    }
    const onError = (error: NodeJS.ErrnoException): void => {
      socket.close();
      const what = error.code === 'EADDRINUSE' ? 'is already in use' : `cannot be bound (${error.code ?? error.message})`;
      reject(new BindError(`UDP ${formatEndpoint(host, port)} ${what}`, error.code));
    };
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/**
 * Asks for the socket buffers we want. A deep receive buffer absorbs bursts (the tool this
 * replaces lost packets from 15,600/s up with a 16 KiB buffer); Linux grants at most
 * net.core.rmem_max / wmem_max, so log what we really got.
 */
function sizeBuffers(socket: Socket, recv: number, send: number, logger: Logger | undefined): { recv: number; send: number } {
  try {
    socket.setRecvBufferSize(recv);
  } catch (error) {
    logger?.warn({ requested: recv, err: (error as Error).message }, 'could not size the receive buffer');
  }
  try {
    socket.setSendBufferSize(send);
  } catch (error) {
    logger?.warn({ requested: send, err: (error as Error).message }, 'could not size the send buffer');
  }
  return { recv: socket.getRecvBufferSize(), send: socket.getSendBufferSize() };
}

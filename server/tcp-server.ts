// The socket adapter around the TcpResponder: listens on TCP, hands each connection and each
// chunk to the pure core, writes the replies and carries out its closes. Everything that is not
// a socket lives in server/tcp-responder.ts.
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { monotonicClock, type Clock } from '../common/clock.js';
import { formatEndpoint } from '../common/ip-address.js';
import { listen } from '../common/listen.js';
import { SOFTWARE } from '../common/version.js';
import { TcpResponder, type TcpCounters } from './tcp-responder.js';

export interface TcpStunServerConfig {
  /** Address to listen on: the one the UDP socket got, so both serve the same clients. */
  host: string;
  /** The UDP port, or 0 for any free port (tests). */
  port: number;
  podName: string;
  nodeName?: string;
  logger?: Logger;
  /** Most connections open at once; one more is refused. Default DEFAULT_MAX_CONNECTIONS. */
  maxConnections?: number;
  /** A connection with no whole message for this long is closed. Default DEFAULT_TCP_IDLE_MS. */
  idleMs?: number;
  /** Time for the idle rule. Default the monotonic clock. */
  clock?: Clock;
  /** How often idle connections are looked for; 0 never (a test calls closeIdle()). Default idleMs / 10, from 10 ms to 1 s. */
  sweepIntervalMs?: number;
}

export interface RunningTcpStunServer {
  address: string;
  port: number;
  /** Live counters, updated as connections come and go. */
  counters: TcpCounters;
  openConnections(): number;
  /** Closes the connections idle past the limit now; returns how many. Also runs on a timer. */
  closeIdle(): number;
  /** Stops taking connections (new ones are refused by the kernel); open ones are still answered. */
  stopAccepting(): void;
  /** Stops taking connections, closes the open ones (counted as shutdown) and resolves once all are gone. */
  close(): Promise<void>;
}

/** Measured at about 10 KiB of resident memory each (5,000 on loopback): about 100 MiB at the bound, inside the pod's 256 MiB. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Like --session-idle: a client that says nothing for this long is gone. */
export const DEFAULT_TCP_IDLE_MS = 5 * 60_000;

/** Listens and starts answering. Rejects with BindError if the address is unusable. */
export async function startTcpStunServer(config: TcpStunServerConfig): Promise<RunningTcpStunServer> {
  const logger = config.logger;
  const clock = config.clock ?? monotonicClock;
  const idleMs = config.idleMs ?? DEFAULT_TCP_IDLE_MS;
  const core = new TcpResponder<Socket>({
    identity: { software: SOFTWARE, podName: config.podName, nodeName: config.nodeName },
    maxConnections: config.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    idleMs,
  });

  // noDelay: a reply is one small write that must leave at once, not wait for Nagle.
  const server: Server = createServer({ noDelay: true }, (socket) => {
    const opened = core.open(socket, socket.remoteAddress, socket.remotePort, clock());
    if (!opened.ok) {
      // A reset, so the client knows at once that it was refused, not served and closed.
      socket.resetAndDestroy();
      logger?.debug({ reason: opened.reason, from: endpointOf(socket) }, 'tcp connection refused');
      return;
    }
    const { connection } = opened;
    socket.on('data', (chunk: Buffer) => {
      const { replies, close } = core.receive(connection, chunk, clock());
      let flowing = true;
      if (replies.length > 1) socket.cork();
      for (const reply of replies) flowing = socket.write(reply);
      if (replies.length > 1) socket.uncork();
      if (close !== undefined) {
        logger?.debug({ reason: close, from: endpointOf(socket) }, 'tcp connection closed: not STUN');
        socket.destroy();
      } else if (!flowing) {
        // The peer does not read its replies: stop reading its requests until it does, so
        // memory stays bounded; the idle rule closes it as slow if it never does.
        core.setWriteBlocked(connection, true);
        socket.pause();
      }
    });
    socket.on('drain', () => {
      core.setWriteBlocked(connection, false);
      socket.resume();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      core.close(connection, error.code === 'ECONNRESET' ? 'client-reset' : 'socket-error');
    });
    // After an error, or after our own close, the connection is counted already and this is a no-op.
    socket.on('close', () => core.close(connection, 'client-closed'));
  });

  const bound = await listen(server, 'TCP', config.host, config.port);
  // After listen, errors are accept failures (EMFILE...): the connection is lost, the server goes on.
  server.on('error', (error) => logger?.warn({ err: error.message }, 'tcp accept error'));

  const closeIdle = (): number => {
    const expired = core.expire(clock());
    for (const { handle } of expired) handle.destroy();
    return expired.length;
  };
  const sweepIntervalMs = config.sweepIntervalMs ?? Math.min(1000, Math.max(10, idleMs / 10));
  const sweep = sweepIntervalMs > 0 ? setInterval(closeIdle, sweepIntervalMs).unref() : undefined;

  let listenerClosed: Promise<void> | undefined;
  // server.close() stops accepting at once; its callback waits until every connection is gone.
  const stopListening = (): Promise<void> => (listenerClosed ??= new Promise<void>((resolve) => server.close(() => resolve())));
  let closing: Promise<void> | undefined;
  return {
    address: bound.address,
    port: bound.port,
    counters: core.counters,
    openConnections: () => core.openCount,
    closeIdle,
    stopAccepting: () => void stopListening(),
    close: () =>
      (closing ??= (async () => {
        if (sweep) clearInterval(sweep);
        const listener = stopListening();
        for (const socket of core.closeAll()) socket.destroy();
        await listener;
      })()),
  };
}

function endpointOf(socket: Socket): string {
  return formatEndpoint(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
}

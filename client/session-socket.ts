// One UDP socket per session, bound to its own ephemeral port (affinity is per flow, and a flow
// is the 5-tuple) and connected to the target, so the kernel drops datagrams from anyone else and
// a send needs no address. Datagrams arrive through node:dgram 'message' events: one callback per
// datagram, no promise or queue in between that could lose or delay one.
import { createSocket, type Socket } from 'node:dgram';
import { SetupError } from '../common/errors.js';
import type { ResolvedTarget } from './target.js';

export interface SessionSocketOptions {
  target: ResolvedTarget;
  /** Called for every datagram the kernel delivers. */
  onMessage: (datagram: Buffer) => void;
  /** Socket errors (ICMP unreachable reported on send, ...): counted by the caller, never fatal. */
  onError: (error: Error) => void;
  /** SO_RCVBUF to ask for; the kernel caps it at net.core.rmem_max. */
  recvBufferBytes?: number;
  /** Local address to bind (--bind-address); default every address of the target's family. */
  bindAddress?: string;
}

export interface SessionSocket {
  /** The local address once connected: the bound one, or the one the route picked for a wildcard. */
  readonly localAddress: string;
  readonly localPort: number;
  send(datagram: Buffer): void;
  close(): void;
  /** The underlying socket, for tests and benchmarks that look at kernel buffers. */
  readonly socket: Socket;
}

export async function openSessionSocket(options: SessionSocketOptions): Promise<SessionSocket> {
  const { target } = options;
  const socket = createSocket({ type: target.family === 6 ? 'udp6' : 'udp4', recvBufferSize: options.recvBufferBytes });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: 0, address: options.bindAddress ?? (target.family === 6 ? '::' : '0.0.0.0'), exclusive: true }, () => {
        socket.connect(target.port, target.address, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    });
  } catch (error) {
    socket.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EMFILE' || code === 'ENFILE') {
      throw new SetupError('descriptor-limit', `cannot open another UDP socket (${code}): too many open files; raise "ulimit -n" or use fewer --sessions`);
    }
    throw new SetupError('socket-open', `cannot open a UDP socket to ${target.endpoint}: ${(error as Error).message}`);
  }
  socket.on('message', options.onMessage);
  socket.on('error', options.onError);
  const { address: localAddress, port: localPort } = socket.address();
  let open = true;
  return {
    localAddress,
    localPort,
    socket,
    send(datagram) {
      if (open) socket.send(datagram);
    },
    close() {
      if (!open) return;
      open = false;
      socket.close();
    },
  };
}

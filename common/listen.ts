// Listening on a TCP port (the HTTP side port, STUN over TCP) with one clear error when the
// address is unusable, and the address actually bound.
import type { Server } from 'node:net';
import { BindError } from './errors.js';
import { formatEndpoint } from './ip-address.js';

/**
 * Listens on `host`:`port` (IPv4 too when `host` is `::`) and resolves with the address and port
 * bound. Rejects with BindError naming `what` ("HTTP", "TCP") if the address is unusable.
 */
export async function listen(server: Server, what: string, host: string, port: number): Promise<{ address: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const why = error.code === 'EADDRINUSE' ? 'is already in use' : `cannot be bound (${error.code ?? error.message})`;
      reject(new BindError(`${what} ${formatEndpoint(host, port)} ${why}`, error.code));
    };
    server.once('error', onError);
    server.listen({ host, port, ipv6Only: false }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address();
  return typeof bound === 'object' && bound !== null ? { address: bound.address, port: bound.port } : { address: host, port };
}

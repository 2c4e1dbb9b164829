// What the client benchmarks share: a free loopback UDP port for the server, and a child's exit.
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

export async function freePort(options: { tcp?: boolean } = {}): Promise<number> {
  for (;;) {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    const { port } = socket.address();
    socket.close();
    // A server that also listens on TCP needs the port free there too (it may be some connection's local port).
    if (!options.tcp || (await tcpPortFree(port))) return port;
  }
}

function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export function waitForExit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

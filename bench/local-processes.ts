// What the client benchmarks share: a free loopback UDP port for the server, and a child's exit.
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';

export async function freePort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const { port } = socket.address();
  socket.close();
  return port;
}

export function waitForExit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

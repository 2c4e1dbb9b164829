// What the client benchmarks share: a free loopback UDP port for the server, a child's exit, and
// a process's CPU and peak memory.
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';

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

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** user+sys CPU seconds and peak RSS (VmHWM, bytes) of a running process, from /proc. */
export function sample(pid: number): { cpuSeconds: number; peakRss: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuSeconds, peakRss: hwm ? Number(hwm[1]) * 1024 : 0 };
  } catch {
    return undefined;
  }
}

// What the client benchmarks share: a free loopback UDP port for the server, a child's exit, and
// a process's CPU and peak memory.
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';

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

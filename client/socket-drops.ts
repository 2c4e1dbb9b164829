// Datagrams the kernel dropped on the client's own sockets because their receive buffer was full.
// A loss tester must not lose datagrams itself; when the kernel did, the run says so, since those
// replies were counted as lost although the network delivered them. Linux only (/proc/net/udp*);
// elsewhere the figure is unknown (undefined).
import { readFileSync } from 'node:fs';

/** Local port -> drops, from the text of /proc/net/udp or /proc/net/udp6 (drops: last column). */
export function parseUdpDrops(procText: string): Map<number, number> {
  const drops = new Map<number, number>();
  for (const line of procText.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (local === undefined || fields.length < 13) continue;
    const port = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    const count = Number(fields[fields.length - 1]);
    if (Number.isInteger(port) && Number.isFinite(count)) drops.set(port, (drops.get(port) ?? 0) + count);
  }
  return drops;
}

/** Total kernel drops on the sockets bound to `ports`, or undefined where /proc/net is missing. */
export function kernelReceiveDrops(ports: readonly number[], readText = (path: string) => readFileSync(path, 'utf8')): number | undefined {
  const all = new Map<number, number>();
  let readAny = false;
  for (const path of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readText(path);
    } catch {
      continue;
    }
    readAny = true;
    for (const [port, count] of parseUdpDrops(text)) all.set(port, (all.get(port) ?? 0) + count);
  }
  if (!readAny) return undefined;
  return ports.reduce((sum, port) => sum + (all.get(port) ?? 0), 0);
}

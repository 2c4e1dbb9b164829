// The host's TCP retransmissions during a run (Linux): kube-ovn's test server reads them from
// /proc/net/snmp to see a CNI reload that drops no connection but stalls them. The counters are
// host-wide (or the network namespace's), so they include every other TCP flow on the host.
import { readFileSync } from 'node:fs';

export interface TcpRetransmitCounters {
  /** Tcp: RetransSegs in /proc/net/snmp (RFC 1213 tcpRetransSegs). */
  retransSegs: number;
  /** TcpExt: TCPTimeouts in /proc/net/netstat (retransmission timer expiries); undefined where absent. */
  timeouts: number | undefined;
}

/** The value of `field` in the `prefix:` table of /proc/net/snmp or /proc/net/netstat (header line, then value line). */
export function procNetField(text: string, prefix: string, field: string): number | undefined {
  const lines = text.split('\n').filter((line) => line.startsWith(`${prefix}:`));
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i]!.split(/\s+/);
    const values = lines[i + 1]!.split(/\s+/);
    const at = names.indexOf(field);
    if (at > 0 && values[at] !== undefined) {
      const value = Number(values[at]);
      return Number.isFinite(value) ? value : undefined;
    }
  }
  return undefined;
}

/** Reads the counters now; undefined off Linux or where /proc is not readable. */
export function readTcpRetransmits(read: (path: string) => string = (path) => readFileSync(path, 'utf8')): TcpRetransmitCounters | undefined {
  let retransSegs: number | undefined;
  try {
    retransSegs = procNetField(read('/proc/net/snmp'), 'Tcp', 'RetransSegs');
  } catch {
    return undefined;
  }
  if (retransSegs === undefined) return undefined;
  let timeouts: number | undefined;
  try {
    timeouts = procNetField(read('/proc/net/netstat'), 'TcpExt', 'TCPTimeouts');
  } catch {
    timeouts = undefined;
  }
  return { retransSegs, timeouts };
}

/** What happened between two readings; null when either is missing. */
export function retransmitsBetween(start: TcpRetransmitCounters | undefined, end: TcpRetransmitCounters | undefined): { retransSegs: number; timeouts: number | null } | null {
  if (start === undefined || end === undefined) return null;
  return {
    retransSegs: end.retransSegs - start.retransSegs,
    timeouts: start.timeouts === undefined || end.timeouts === undefined ? null : end.timeouts - start.timeouts,
  };
}

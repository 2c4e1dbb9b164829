// --protocol both: UDP and TCP sessions side by side against the same target, each a whole run
// of its own (sessions, report, summary), started together and told apart by a prefix on every
// line and a suffix on every file, then one line on whether they broke at the same moment.
import type { ChalkInstance } from 'chalk';
import { clockTime, formatMs } from './event-lines.js';
import type { ClientReport } from './report.js';
import { runClient, type ClientRunOptions, type ClientRunResult } from './run.js';
import type { ProtocolChoice } from './protocol-options.js';

/** `affinity-report.json` -> `affinity-report.tcp.json`; a name without an extension gets `.tcp`. */
export function protocolFile(path: string, protocol: 'udp' | 'tcp'): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  return dot > slash + 1 ? `${path.slice(0, dot)}.${protocol}${path.slice(dot)}` : `${path}.${protocol}`;
}

/** When a report first saw a break: its first session event, or its first step with a lost connection. */
export function firstBreakOf(report: ClientReport): number | undefined {
  const times: number[] = [];
  if (report.events.length > 0) times.push(Date.parse(report.events[0]!.time));
  const step = report.connections?.steps.find((s) => Object.keys(s.lost).length > 0);
  if (step !== undefined) times.push(Date.parse(step.time));
  return times.length === 0 ? undefined : Math.min(...times);
}

/** `udp first broke at 12:00:03.120, tcp at 12:00:03.450 (330 ms apart)`, or who never broke. */
export function breakComparisonLine(udp: ClientReport, tcp: ClientReport): string {
  const u = firstBreakOf(udp);
  const c = firstBreakOf(tcp);
  if (u === undefined && c === undefined) return 'udp and tcp: neither broke';
  if (u === undefined) return `tcp first broke at ${clockTime(c!)}; udp never broke`;
  if (c === undefined) return `udp first broke at ${clockTime(u)}; tcp never broke`;
  return `udp first broke at ${clockTime(u)}, tcp at ${clockTime(c)} (${formatMs(Math.abs(u - c))} apart)`;
}

export interface ProtocolRun {
  protocol: 'udp' | 'tcp';
  result: ClientRunResult;
}

/** Runs `choice` (one protocol, or both side by side); the results in the order udp, tcp. */
export async function runProtocols(choice: ProtocolChoice, options: ClientRunOptions, style: ChalkInstance): Promise<ProtocolRun[]> {
  if (choice !== 'both') return [{ protocol: choice, result: await runClient({ ...options, protocol: choice }) }];
  const runs = (['udp', 'tcp'] as const).map(async (protocol): Promise<ProtocolRun> => {
    const prefix = style.bold(`[${protocol}] `);
    const result = await runClient({
      ...options,
      protocol,
      write: (line) => options.write(line === '' ? line : prefix + line),
      reportFile: options.reportFile === undefined ? undefined : protocolFile(options.reportFile, protocol),
      eventsFile: options.eventsFile === undefined ? undefined : protocolFile(options.eventsFile, protocol),
    });
    return { protocol, result };
  });
  const [udp, tcp] = await Promise.all(runs);
  options.write(breakComparisonLine(udp!.result.report, tcp!.result.report));
  return [udp!, tcp!];
}

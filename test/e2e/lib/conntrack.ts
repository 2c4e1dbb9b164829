// Ground truth from the kernel: `conntrack -L -o extended` lines parsed into flows. Pure.
// A line carries the original tuple first and the reply tuple second, e.g.
//   ipv4 2 udp 17 29 src=203.0.113.2 dst=203.0.113.100 sport=40474 dport=3478
//                    src=198.51.100.12 dst=203.0.113.2 sport=3478 dport=40474 [ASSURED] mark=0 use=1
// For a DNATed flow the reply's source is the pod; for a SNATed flow the reply's destination
// port is the port the NAT chose. `conntrack -f ipv6` prints the same with IPv6 addresses
// (`ipv6 10 udp 17 ...`), in the canonical RFC 5952 form the client prints too.
import { formatEndpoint } from '../../../common/ip-address.js';
import type { Protocol } from './service.js';

export interface Tuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

export interface Flow {
  protocol: string;
  original: Tuple;
  reply: Tuple;
  /** A TCP flow's state as conntrack tracks it (`ESTABLISHED`, `TIME_WAIT`, ...); absent for UDP. */
  state?: string;
}

const TUPLE_KEYS = ['src', 'dst', 'sport', 'dport'] as const;

/** One flow per line that has both tuples; anything else (headers, summaries) is skipped. */
export function parseConntrack(text: string): Flow[] {
  const flows: Flow[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    const protocol = words.find((w) => w === 'udp' || w === 'tcp' || w === 'icmp' || w === 'sctp');
    if (protocol === undefined) continue;
    const tuples: Partial<Record<(typeof TUPLE_KEYS)[number], string>>[] = [{}, {}];
    let index = 0;
    for (const word of words) {
      const equals = word.indexOf('=');
      if (equals <= 0) continue;
      const key = word.slice(0, equals) as (typeof TUPLE_KEYS)[number];
      if (!TUPLE_KEYS.includes(key)) continue;
      // The first tuple ends when a key repeats.
      if (tuples[index]![key] !== undefined) index++;
      if (index > 1) break;
      tuples[index]![key] = word.slice(equals + 1);
    }
    const [original, reply] = tuples.map(toTuple);
    if (original === undefined || reply === undefined) continue;
    // TCP lines carry the state between the timeout and the first tuple: `tcp 6 431999 ESTABLISHED src=...`.
    const state = protocol === 'tcp' ? words.find((w) => /^[A-Z_]+$/.test(w)) : undefined;
    flows.push(state === undefined ? { protocol, original, reply } : { protocol, original, reply, state });
  }
  return flows;
}

function toTuple(fields: Partial<Record<(typeof TUPLE_KEYS)[number], string>>): Tuple | undefined {
  const { src, dst, sport, dport } = fields;
  if (src === undefined || dst === undefined || sport === undefined || dport === undefined) return undefined;
  return { src, dst, sport: Number(sport), dport: Number(dport) };
}

/** A client flow to the Service, as the node's conntrack records it. */
export interface ServiceFlow {
  /** The client as it reached the node (after the client's NAT): `ip:port`, or `[ip]:port` for IPv6. */
  client: string;
  /**
   * The client as the pod sees it, `ip:port`: the same as `client` unless the node had to
   * change the source port so that the flow's reply tuple stays unique (a stale entry left by a
   * reply that raced a conntrack flush can hold it). This is what the pod reflects.
   */
  seen: string;
  /** The pod IP the flow was DNATed to. */
  backend: string;
}

/**
 * The flows to the Service `serviceIp:servicePort` among `flows` (node side), of `protocol`; for
 * TCP only the connections conntrack holds ESTABLISHED (not those closing or closed).
 */
export function serviceFlows(flows: readonly Flow[], serviceIp: string, servicePort: number, protocol: Protocol = 'udp'): ServiceFlow[] {
  const out: ServiceFlow[] = [];
  for (const flow of flows) {
    if (protocol === 'tcp' && flow.state !== 'ESTABLISHED') continue;
    if (flow.protocol !== protocol || flow.original.dst !== serviceIp || flow.original.dport !== servicePort) continue;
    out.push({
      client: formatEndpoint(flow.original.src, flow.original.sport),
      seen: formatEndpoint(flow.reply.dst, flow.reply.dport),
      backend: flow.reply.src,
    });
  }
  return out;
}

/**
 * In the client's NAT: the public port each client socket was given, keyed by the client's
 * local port (the reply comes back to the NAT's public address and that port).
 */
export function natPortsByLocalPort(flows: readonly Flow[], clientIp: string, serviceIp: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const flow of flows) {
    if (flow.protocol !== 'udp' || flow.original.src !== clientIp || flow.original.dst !== serviceIp) continue;
    out.set(flow.original.sport, flow.reply.dport);
  }
  return out;
}

/** One line of `conntrack -E`: a flow was created, changed (e.g. its first reply passed) or removed. */
export interface ConntrackEvent {
  kind: 'NEW' | 'UPDATE' | 'DESTROY';
  flow: Flow;
  /** False once a reply has passed (the line no longer carries [UNREPLIED]). */
  unreplied: boolean;
}

/** Parses `conntrack -E` output; lines without a known event kind are skipped. */
export function parseConntrackEvents(text: string): ConntrackEvent[] {
  const events: ConntrackEvent[] = [];
  for (const line of text.split('\n')) {
    const kind = /\[(NEW|UPDATE|DESTROY)\]/.exec(line)?.[1] as ConntrackEvent['kind'] | undefined;
    if (kind === undefined) continue;
    const [flow] = parseConntrack(line);
    if (flow === undefined) continue;
    events.push({ kind, flow, unreplied: line.includes('[UNREPLIED]') });
  }
  return events;
}

/** One step of a client flow's history: who answered it, and at which address it saw the client. */
export interface Answer {
  backend: string;
  seen: string;
}

/**
 * From the node's event log: for each client address (`ip:port` as the node received it), who
 * answered it, in order, with repeats collapsed. A flow counts once a reply has passed the node
 * ([UPDATE] without [UNREPLIED]): a flow created and flushed before any reply (a packet racing
 * `conntrack -F`) never reached the client, so the client cannot have seen it. A flow recreated
 * to the same backend and address is no change either. So this is the sequence of serving pods
 * and reflected addresses each session should report.
 */
export function answersByClient(events: readonly ConntrackEvent[], serviceIp: string, servicePort: number): Map<string, Answer[]> {
  const out = new Map<string, Answer[]>();
  for (const { kind, flow, unreplied } of events) {
    if (kind !== 'UPDATE' || unreplied) continue;
    for (const { client, seen, backend } of serviceFlows([flow], serviceIp, servicePort)) {
      const path = out.get(client) ?? [];
      const last = path.at(-1);
      if (last?.backend !== backend || last.seen !== seen) path.push({ backend, seen });
      out.set(client, path);
    }
  }
  return out;
}

// Ground truth from the kernel: `conntrack -L -o extended` lines parsed into flows. Pure.
// A line carries the original tuple first and the reply tuple second, e.g.
//   ipv4 2 udp 17 29 src=203.0.113.2 dst=203.0.113.100 sport=40474 dport=3478
//                    src=198.51.100.12 dst=203.0.113.2 sport=3478 dport=40474 [ASSURED] mark=0 use=1
// For a DNATed flow the reply's source is the pod; for a SNATed flow the reply's destination
// port is the port the NAT chose.

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
    flows.push({ protocol, original, reply });
  }
  return flows;
}

function toTuple(fields: Partial<Record<(typeof TUPLE_KEYS)[number], string>>): Tuple | undefined {
  const { src, dst, sport, dport } = fields;
  if (src === undefined || dst === undefined || sport === undefined || dport === undefined) return undefined;
  return { src, dst, sport: Number(sport), dport: Number(dport) };
}

/**
 * On the node: which backend each client flow to the Service was DNATed to, keyed by the flow's
 * source `address:port` (the client as the node sees it, after the client's NAT).
 */
export function backendsByClient(flows: readonly Flow[], serviceIp: string, servicePort: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const flow of flows) {
    if (flow.protocol !== 'udp' || flow.original.dst !== serviceIp || flow.original.dport !== servicePort) continue;
    out.set(`${flow.original.src}:${flow.original.sport}`, flow.reply.src);
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

// Packet loss on the node, made with nftables (this kernel has no tc netem): each request going
// to a pod and each reply coming back is dropped with the given probability, and named counters
// record what passed and what was dropped, the ground truth for the client's loss figures. The
// table is in the inet family, so the same rules work in an IPv4 and an IPv6 bed.
// Pure: script text in, counters out of `nft -j list table` output.
import type { BedPlan } from './bed-plan.js';

export const LOSS_TABLE = 'affinity-e2e-loss';
/** numgen draws from 0..RESOLUTION-1; a packet is dropped when the draw is below p * RESOLUTION. */
const RESOLUTION = 10_000;

export interface LossCounters {
  requestsSeen: number;
  requestsDropped: number;
  repliesSeen: number;
  repliesDropped: number;
}

const COUNTERS = {
  requestsSeen: 'requests-seen',
  requestsDropped: 'requests-dropped',
  repliesSeen: 'replies-seen',
  repliesDropped: 'replies-dropped',
} as const satisfies Record<keyof LossCounters, string>;

export function lossTableScript(plan: BedPlan, probability: number): string {
  if (!(probability >= 0 && probability <= 1)) throw new RangeError(`loss probability ${probability} is not within 0-1`);
  const threshold = Math.round(probability * RESOLUTION);
  const t = `inet ${LOSS_TABLE}`;
  const port = plan.servicePort;
  // Requests leave through the bridge towards the pods (after DNAT), replies arrive from it.
  const toPods = `oifname "${plan.bridge}" udp dport ${port}`;
  const fromPods = `iifname "${plan.bridge}" udp sport ${port}`;
  return [
    `add table ${t}`,
    ...Object.values(COUNTERS).map((name) => `add counter ${t} ${name}`),
    `add chain ${t} forward { type filter hook forward priority filter ; policy accept ; }`,
    `add rule ${t} forward ${toPods} counter name "${COUNTERS.requestsSeen}"`,
    `add rule ${t} forward ${toPods} numgen random mod ${RESOLUTION} < ${threshold} counter name "${COUNTERS.requestsDropped}" drop`,
    `add rule ${t} forward ${fromPods} counter name "${COUNTERS.repliesSeen}"`,
    `add rule ${t} forward ${fromPods} numgen random mod ${RESOLUTION} < ${threshold} counter name "${COUNTERS.repliesDropped}" drop`,
    '',
  ].join('\n');
}

/** Reads the named counters from `nft -j list table inet affinity-e2e-loss`. */
export function parseLossCounters(json: string): LossCounters {
  const counters: LossCounters = { requestsSeen: 0, requestsDropped: 0, repliesSeen: 0, repliesDropped: 0 };
  const parsed = JSON.parse(json) as { nftables?: { counter?: { name: string; packets: number } }[] };
  for (const item of parsed.nftables ?? []) {
    if (item.counter === undefined) continue;
    for (const [field, name] of Object.entries(COUNTERS) as [keyof LossCounters, string][]) {
      if (item.counter.name === name) counters[field] = item.counter.packets;
    }
  }
  return counters;
}

// The client's TCP connection table (the report's connections.steps, one row per stats tick) laid
// out as ctraffic prints its per-replica table: a column per pod with the connections open on it
// at the tick, then those lost and reconnected since the tick before, by pod. Pure.

export interface ConnectionStepRow {
  time: string;
  open: Record<string, number>;
  lost: Record<string, number>;
  reconnected: Record<string, number>;
}

/** `pod-1 8, pod-2 3`, or `-` when empty. */
function byPod(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? '-' : entries.map(([pod, n]) => `${pod} ${n}`).join(', ');
}

/** The table's lines: a header, then one line per step, timed in seconds from the first step. */
export function connectionStepsTable(steps: readonly ConnectionStepRow[], pods: readonly string[]): string[] {
  const first = steps.length === 0 ? 0 : Date.parse(steps[0]!.time);
  const width = Math.max(5, ...pods.map((p) => p.length));
  const lostWidth = Math.max(4, ...steps.map((s) => byPod(s.lost).length));
  const cells = (time: string, open: string[], lost: string, reconnected: string) =>
    [time.padStart(6), ...open.map((c) => c.padStart(width)), lost.padEnd(lostWidth), reconnected].join('  ').trimEnd();
  return [
    cells('t (s)', [...pods], 'lost', 'reconnected'),
    ...steps.map((s) =>
      cells(((Date.parse(s.time) - first) / 1000).toFixed(1), pods.map((p) => String(s.open[p] ?? 0)), byPod(s.lost), byPod(s.reconnected)),
    ),
  ];
}

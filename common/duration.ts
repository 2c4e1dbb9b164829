// Durations on the command line take units ("200ms", "10s", "5m", "1h", "1.5s"); a bare number
// is seconds, which is what people type for intervals. Printing them is common/format.ts.
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in `text`, or undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 's']!);
}

// Until client/ and kube/ import it from common/format.ts (folded at merge): remove then.
export { formatDuration } from './format.js';

// Numbers for people and for reports, in one place: milliseconds rounded for JSON, durations,
// RTTs and percentages for the screen. Parsing durations from flags is common/duration.ts.

/** Milliseconds rounded to the microsecond, as reports and NDJSON carry them; undefined gives null. */
export function roundMs(ms: number): number;
export function roundMs(ms: number | undefined): number | null;
export function roundMs(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.round(ms * 1000) / 1000;
}

/** A short human form: 850ms, 2.40s, 12.3s, 3m05s, 1h02m. */
export function formatDuration(ms: number): string {
  // Each unit is chosen by the value as it will be printed, so 9,999 ms is "10.0s", not "10.00s".
  if (ms < 999.5) return `${Math.round(ms)}ms`;
  if (ms < 9_995) return `${(ms / 1000).toFixed(2)}s`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) return `${Math.floor(totalSeconds / 60)}m${String(totalSeconds % 60).padStart(2, '0')}s`;
  const minutes = Math.floor(totalSeconds / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/**
 * A duration as a flag takes it, with nothing rounded away: "10s" for whole seconds, else
 * "1500ms". parseDuration() reads it back to the same value, so settings echo what was asked.
 */
export function formatExactDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** An RTT or lag: sub-millisecond precision where it matters (0.42ms, 12.3ms, 2.40s); "-" for none. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 10) return `${ms.toFixed(2)}ms`;
  if (ms < 100) return `${ms.toFixed(1)}ms`;
  return formatDuration(ms);
}

/** 0.123% style: enough digits to see a single loss in a large run. */
export function formatPercent(percent: number): string {
  if (percent === 0) return '0%';
  if (percent < 0.01) return `${percent.toFixed(4)}%`;
  if (percent < 1) return `${percent.toFixed(3)}%`;
  return `${percent.toFixed(2)}%`;
}

/** `count` and `noun`, with an "s" unless the count is one (nouns of this code only take "s"): "1 violation", "57 other sessions". */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

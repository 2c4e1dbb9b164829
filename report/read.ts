// Reading a JSON report back: a damaged file or one from another version is a reason, not a
// crash, so the command can name the file in one line. Only the fields the report command uses
// are checked; they are the ones a truncated or hand-edited file loses first.
import type { ClientReport } from '../client/report.js';
import { VERSION } from '../common/version.js';

export type ParsedReport = { ok: true; report: ClientReport } | { ok: false; reason: string };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function parseReport(text: string, version: string = VERSION): ParsedReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not valid JSON (${(error as Error).message})` };
  }
  if (!isObject(value) || value.tool !== 'affinity-tester') return { ok: false, reason: 'not an affinity-tester report' };
  if (value.version !== version) {
    return { ok: false, reason: `written by affinity-tester ${String(value.version)}, this is ${version}: render it with that version` };
  }
  const missing = ['settings', 'verdict', 'totals', 'target', 'cluster'].filter((key) => !isObject(value[key]));
  missing.push(...['pods', 'sessions', 'events'].filter((key) => !Array.isArray(value[key])));
  missing.push(...['startedAt', 'endedAt'].filter((key) => typeof value[key] !== 'string' || Number.isNaN(Date.parse(value[key] as string))));
  if (value.timeline !== undefined && !(isObject(value.timeline) && Array.isArray(value.timeline.buckets))) missing.push('timeline');
  if (missing.length > 0) return { ok: false, reason: `damaged report: ${missing.join(', ')} missing or malformed` };
  return { ok: true, report: value as unknown as ClientReport };
}

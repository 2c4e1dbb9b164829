// The status line at the bottom of a terminal, as one pure call: figures, width and time in, one
// line out, never wider than the terminal (cut, not wrapped, so redrawing it in place works).
// Plain ASCII, so every character is one column.
import { lossPercent, type PodShare } from './stats.js';
import { formatPercent } from './verdict.js';

export interface StatusSnapshot {
  startedAt: number;
  /** --duration; undefined runs until Ctrl-C. */
  durationMs?: number;
  established: number;
  active: number;
  sent: number;
  lost: number;
  pending: number;
  podChanges: number;
  addressChanges: number;
  /**
   * Changes by verdict class (expected, violation, address, stuck), once the break classifier
   * feeds them; shown instead of the plain pod and address counts.
   */
  changeClasses?: Readonly<Record<string, number>>;
  /** Sessions per pod, largest first. */
  pods: readonly PodShare[];
  lastBreakAt?: number;
}

const PROGRESS_WIDTH = 10;
const POD_BAR_WIDTH = 12;
const POD_MARKS = 'abcdefghijklmnopqrstuvwxyz';

/** `0:07`, `12:05`, `1:02:03`. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** `[####......]`: how much of the duration has passed. */
export function progressBar(fraction: number, width = PROGRESS_WIDTH): string {
  const done = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(done)}${'.'.repeat(width - done)}]`;
}

/**
 * `[aaaaabbbbccc]`: the largest pod gets `a`, the next `b`, each a share of the bar as wide as
 * its share of the sessions (at least one mark, so a pod is never hidden).
 */
export function podBar(pods: readonly PodShare[], width = POD_BAR_WIDTH): string {
  const total = pods.reduce((n, p) => n + p.sessions, 0);
  if (total === 0) return '[]';
  const shown = pods.slice(0, Math.min(width, POD_MARKS.length));
  let bar = '';
  for (const [i, pod] of shown.entries()) {
    const left = width - bar.length - (shown.length - i - 1);
    bar += POD_MARKS[i]!.repeat(Math.min(left, Math.max(1, Math.round((pod.sessions / total) * width))));
  }
  return `[${bar.padEnd(width, POD_MARKS[shown.length - 1]!)}]`;
}

/** The changes so far: by class when classified, else pod and address changes. */
export function changesPart(s: StatusSnapshot): string {
  if (s.changeClasses !== undefined) {
    return `changes ${Object.entries(s.changeClasses)
      .map(([name, n]) => `${name} ${n}`)
      .join(' ')}`;
  }
  return `changes pod ${s.podChanges} addr ${s.addressChanges}`;
}

export function statusLine(s: StatusSnapshot, width: number, now: number): string {
  const elapsed = now - s.startedAt;
  const time =
    s.durationMs === undefined
      ? formatElapsed(elapsed)
      : `${formatElapsed(elapsed)} ${progressBar(elapsed / s.durationMs)} ${formatElapsed(s.durationMs - elapsed)} left`;
  const parts = [
    time,
    `sessions ${s.established}/${s.active}`,
    `loss ${formatPercent(lossPercent(s.lost, s.sent, s.pending))}`,
    changesPart(s),
    `pods ${s.pods.length} ${podBar(s.pods)}`,
    s.lastBreakAt === undefined ? 'no break' : `last break ${formatElapsed(now - s.lastBreakAt)} ago`,
  ];
  return fitWidth(parts.join(' | '), width);
}

/**
 * One column short of the width: a line that fills the last column leaves some terminals waiting
 * to wrap, and the next redraw would then start on a new row.
 */
export function fitWidth(line: string, width: number): string {
  const room = Math.max(0, width - 1);
  return line.length <= room ? line : line.slice(0, room);
}

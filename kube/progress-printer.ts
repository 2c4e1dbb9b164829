// Progress lines of a long kube command (deploy, discover) on stderr: on a terminal each one
// replaces the last; otherwise (CI logs, pipes) every line is kept but repeated waiting lines are
// thinned to one each 10 seconds, so a five-minute wait does not fill a log.
import { monotonicClock, type Clock } from '../common/clock.js';

export const PLAIN_WAITING_EVERY_MS = 10_000;

export interface ProgressPrinter {
  line(text: string): void;
  /** Ends a replaced line with a newline, so what follows starts on its own line. */
  done(): void;
}

export function progressPrinter(write: (text: string) => void, isTTY: boolean, clock: Clock = monotonicClock): ProgressPrinter {
  let open = false;
  let lastWaiting: number | undefined;
  return {
    line(text) {
      if (isTTY) {
        write(`\r\x1b[2K${text}`);
        open = true;
        return;
      }
      if (text.startsWith('waiting')) {
        const now = clock();
        if (lastWaiting !== undefined && now - lastWaiting < PLAIN_WAITING_EVERY_MS) return;
        lastWaiting = now;
      }
      write(`${text}\n`);
    },
    done() {
      if (open) write('\n');
      open = false;
    },
  };
}

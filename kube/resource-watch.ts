// The list-then-watch loop every Kubernetes controller runs, for one collection:
// list (state + resourceVersion), watch from that version, and when the stream ends (API servers
// end every watch after a few minutes, proxies sooner) watch again from the last version seen.
// A version the server has compacted away is answered with 410 Gone, either as the HTTP status or
// as an ERROR event carrying a Status with code 410; then we list afresh and let the caller diff
// the new list against what it had ("Efficient detection of changes" in the API concepts docs).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Watch } from '@kubernetes/client-node';
import { monotonicClock, type Clock } from '../common/clock.js';
import { statusOf, toKubeError, type KubeError, type KubeOperation } from './errors.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface ResourceWatchOptions<T> {
  watch: Watch;
  /** The collection's path, e.g. /api/v1/namespaces/x/pods. */
  path: string;
  query?: Record<string, string>;
  list: () => Promise<ListResult<T>>;
  /** A full list: the first (`initial`) or a re-list after 410 Gone or a failed watch. */
  onList: (items: T[], initial: boolean) => void;
  onEvent: (type: WatchEventType, object: T) => void;
  /** Errors that stop this watch (403, 401) and, with `retrying`, those it retries. */
  onError: (error: KubeError, retrying: boolean) => void;
  /** Describes the watch for error messages ("list pods in namespace x"). */
  operation: Omit<KubeOperation, 'verb'>;
  /** Pause before retrying after an error (default 1s, doubling up to 30s). */
  retryDelayMs?: number;
  /** A watch that ends sooner than this after it started is followed by a pause (default 1s). */
  minWatchMs?: number;
  /** Times how long a watch stream lasted. */
  clock?: Clock;
}

export interface ResourceWatch {
  /** Resolves after the first list attempt, whether it succeeded or not. */
  readonly ready: Promise<void>;
  /** Counters for logs and tests. */
  readonly stats: { lists: number; watches: number; gone: number; errors: number };
  stop(): Promise<void>;
}

type WatchOutcome = { kind: 'ended' } | { kind: 'gone' } | { kind: 'error'; error: unknown };

const FATAL = new Set([401, 403, 404]);

export function startResourceWatch<T extends { metadata?: { resourceVersion?: string } }>(options: ResourceWatchOptions<T>): ResourceWatch {
  const now = options.clock ?? monotonicClock;
  const baseDelay = options.retryDelayMs ?? 1000;
  const minWatchMs = options.minWatchMs ?? 1000;
  const stopper = new AbortController();
  const stats = { lists: 0, watches: 0, gone: 0, errors: 0 };
  let current: AbortController | undefined;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const pause = async (ms: number): Promise<void> => {
    try {
      await sleep(ms, undefined, { signal: stopper.signal });
    } catch {
      // stopped
    }
  };

  const watchOnce = (resourceVersion: string, onVersion: (version: string) => void): Promise<WatchOutcome> =>
    new Promise((resolve) => {
      let gone = false;
      // timeoutSeconds: the server ends the stream after 5 minutes at most, so a connection that
      // died without a FIN (a NAT or proxy dropping it) is noticed and replaced in bounded time.
      const query = { ...options.query, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 };
      options.watch
        .watch(
          options.path,
          query,
          (type, object: T & { code?: number }) => {
            if (type === 'ERROR') {
              if (object?.code === 410) gone = true;
              current?.abort();
              return;
            }
            const version = object?.metadata?.resourceVersion;
            if (version) onVersion(version);
            if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') options.onEvent(type, object);
          },
          (error: unknown) => {
            if (gone) resolve({ kind: 'gone' });
            else if (error && !stopper.signal.aborted && (error as { name?: string }).name !== 'AbortError') resolve({ kind: 'error', error });
            else resolve({ kind: 'ended' });
          },
        )
        .then((controller) => {
          current = controller;
          if (stopper.signal.aborted) controller.abort();
        }, (error: unknown) => resolve({ kind: 'error', error }));
    });

  const run = async (): Promise<void> => {
    let resourceVersion: string | undefined;
    let initial = true;
    let delay = baseDelay;
    while (!stopper.signal.aborted) {
      if (resourceVersion === undefined) {
        let result: ListResult<T>;
        try {
          result = await options.list();
        } catch (error) {
          if (stopper.signal.aborted) break;
          stats.errors++;
          const fatal = FATAL.has(statusOf(error) ?? 0);
          options.onError(toKubeError(error, { ...options.operation, verb: 'list' }), !fatal);
          // The caller should not wait for an API that is down; the loop keeps trying.
          markReady();
          if (fatal) break;
          await pause(delay);
          delay = Math.min(delay * 2, 30_000);
          continue;
        }
        stats.lists++;
        options.onList(result.items, initial);
        if (initial) {
          initial = false;
          markReady();
        }
        resourceVersion = result.resourceVersion;
      }
      const started = now();
      stats.watches++;
      const outcome = await watchOnce(resourceVersion, (version) => (resourceVersion = version));
      if (stopper.signal.aborted) break;
      if (outcome.kind === 'gone' || (outcome.kind === 'error' && statusOf(outcome.error) === 410)) {
        stats.gone++;
        resourceVersion = undefined;
        continue;
      }
      if (outcome.kind === 'error') {
        stats.errors++;
        const fatal = FATAL.has(statusOf(outcome.error) ?? 0);
        options.onError(toKubeError(outcome.error, { ...options.operation, verb: 'watch' }), !fatal);
        if (fatal) break;
        await pause(delay);
        delay = Math.min(delay * 2, 30_000);
        continue;
      }
      delay = baseDelay;
      // A server that ends every watch at once must not turn this loop into a busy one.
      if (now() - started < minWatchMs) await pause(minWatchMs);
    }
    markReady();
  };

  const loop = run();
  return {
    ready,
    stats,
    async stop() {
      stopper.abort();
      current?.abort();
      await loop;
    },
  };
}

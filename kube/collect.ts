// The reports of a client Job, through the API alone (no shared volume): wait until the Job has
// finished, then read each of its pods' logs, where the pod printed its JSON report at the end. An Indexed Job's pods carry their completion index; for each index the newest
// pod with a report counts (a retried index has older, failed pods). A client whose verdict
// failed exits 1, so its pod is Failed and so may be the Job: its report counts all the same.
// Permissions: get jobs, list pods, get pods/log.
import type { Clock } from '../common/clock.js';
import { pollUntil } from './poll.js';
import { BatchV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { KubeError, toKubeError } from './errors.js';

/** Labels and annotations the Job controller sets on its pods (batch/v1, Kubernetes 1.27+). */
const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
const INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
/** The marker lines of manifests/client/job.yaml around the report it prints. */
const REPORT_START = '--- affinity-tester report ';
const REPORT_END = '--- end of report ';
/** A report printed on one line: `JSON.stringify(report)`, whose first key is `tool`. */
const REPORT_PREFIX = '{"tool":"affinity-tester"';

export interface JobLike {
  metadata?: { name?: string };
  spec?: { completions?: number | null };
  status?: { succeeded?: number; failed?: number; conditions?: { type?: string; status?: string }[] };
}

export interface JobRecord {
  name: string;
  completions: number;
  /** 'complete' or 'failed' once the Job controller has finished it; undefined while it runs. */
  finished: 'complete' | 'failed' | undefined;
}

export function jobRecord(job: JobLike): JobRecord {
  const done = (type: string): boolean => (job.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
  return {
    name: job.metadata?.name ?? '',
    completions: job.spec?.completions ?? 1,
    finished: done('Complete') ? 'complete' : done('Failed') ? 'failed' : undefined,
  };
}

export interface JobPodLike {
  metadata?: { name?: string; creationTimestamp?: Date | string; annotations?: Record<string, string> };
}

export interface JobPodRecord {
  name: string;
  /** The completion index; undefined for a pod of a non-indexed Job. */
  index: number | undefined;
  createdAt: number;
}

export function jobPodRecord(pod: JobPodLike): JobPodRecord {
  const index = pod.metadata?.annotations?.[INDEX_ANNOTATION];
  const created = pod.metadata?.creationTimestamp;
  return {
    name: pod.metadata?.name ?? '',
    index: index === undefined || !/^\d+$/.test(index) ? undefined : Number(index),
    createdAt: created === undefined ? 0 : new Date(created).getTime(),
  };
}

/**
 * The report in a pod's log: what manifests/client/job.yaml prints between its marker lines
 * ("--- affinity-tester report POD ---" ... "--- end of report POD (exit N) ---"), the last such
 * block; else the last line that is a report on its own. Undefined when the client printed none.
 */
export function reportTextOf(log: string): string | undefined {
  const lines = log.split('\n');
  let start = -1;
  for (let i = lines.length - 1; i >= 0 && start < 0; i--) if (lines[i]!.startsWith(REPORT_START)) start = i;
  if (start >= 0) {
    const end = lines.findIndex((line, i) => i > start && line.startsWith(REPORT_END));
    const text = lines.slice(start + 1, end < 0 ? undefined : end).join('\n').trim();
    return text === '' ? undefined : text;
  }
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.trim().startsWith(REPORT_PREFIX)) return lines[i]!.trim();
  return undefined;
}

export interface CollectOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  job: string;
  /** Give up waiting for the Job after this long. */
  timeoutMs: number;
  pollMs: number;
  /** Time and the pause between polls (tests pass fakes; default the real ones). */
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  /** Told once while the Job runs, so a person knows what is being waited for. */
  onWaiting?: (job: JobRecord) => void;
}

export interface CollectedReport {
  /** `pod/NAME`, how the merge and its messages name the source. */
  source: string;
  index: number | undefined;
  /** The report's JSON text. */
  text: string;
}

export interface Collected {
  job: JobRecord;
  reports: CollectedReport[];
  /** Indexes (or pods, for a non-indexed Job) whose log had no report. */
  missing: string[];
}

export async function collectJobReports(options: CollectOptions): Promise<Collected> {
  const { kubeConfig, namespace, job: name } = options;
  const batch = kubeConfig.makeApiClient(BatchV1Api);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const server = kubeConfig.getCurrentCluster()?.server;

  // Polling a get needs only "get jobs"; a Job's end is minutes away, a second of delay is nothing.
  let told = false;
  const job = await pollUntil<JobRecord>({
    attempt: async () => {
      let record: JobRecord;
      try {
        record = jobRecord(await batch.readNamespacedJob({ name, namespace }));
      } catch (error) {
        throw toKubeError(error, { verb: 'get', resource: 'jobs.batch', namespace, name, server });
      }
      if (record.finished !== undefined) return record;
      if (!told) options.onWaiting?.(record);
      told = true;
      return undefined;
    },
    timeoutMs: options.timeoutMs,
    intervalMs: options.pollMs,
    timedOut: () => new KubeError('timeout', `job ${name} in namespace ${namespace} has not finished after ${Math.round(options.timeoutMs / 1000)} s (--timeout)`),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
  });

  let pods: JobPodRecord[];
  try {
    const list = await core.listNamespacedPod({ namespace, labelSelector: `${JOB_NAME_LABEL}=${name}` });
    pods = list.items.map(jobPodRecord);
  } catch (error) {
    throw toKubeError(error, { verb: 'list', resource: 'pods', namespace, server });
  }
  // Newest first, so the first pod of an index with a report is the one that counts.
  pods.sort((a, b) => b.createdAt - a.createdAt || a.name.localeCompare(b.name));
  const reports = new Map<string, CollectedReport>();
  const slots = new Set<string>();
  for (const pod of pods) {
    const slot = pod.index === undefined ? `pod ${pod.name}` : `index ${pod.index}`;
    slots.add(slot);
    if (reports.has(slot)) continue;
    let log: string;
    try {
      log = await core.readNamespacedPodLog({ name: pod.name, namespace });
    } catch (error) {
      throw toKubeError(error, { verb: 'get', resource: 'pods/log', namespace, name: pod.name, server });
    }
    const text = reportTextOf(log);
    if (text !== undefined) reports.set(slot, { source: `pod/${pod.name}`, index: pod.index, text });
  }
  if (pods.some((p) => p.index !== undefined)) for (let i = 0; i < job.completions; i++) slots.add(`index ${i}`);
  const missing = [...slots].filter((slot) => !reports.has(slot)).sort(bySlot);
  const collected = [...reports.values()].sort((a, b) => (a.index ?? 0) - (b.index ?? 0) || a.source.localeCompare(b.source));
  return { job, reports: collected, missing };
}

function bySlot(a: string, b: string): number {
  const index = (s: string): number => (s.startsWith('index ') ? Number(s.slice(6)) : Number.MAX_SAFE_INTEGER);
  return index(a) - index(b) || a.localeCompare(b);
}

// `affinity-tester collect --job NAME`: waits for a client Job, reads every pod's report from its
// log through the API (kube/collect.ts), merges them into one (merge.ts) and writes the JSON and
// the HTML page, as `report` would for the same files.
import { Option, type Command } from 'commander';
import type { CommandIo } from '../common/command-io.js';
import { UsageError } from '../common/errors.js';
import { durationOption } from '../common/options.js';
import { writeReport } from '../client/report.js';
import { writeReportOutputs } from './command.js';
import { mergeReports, type NamedReport } from './merge.js';
import { parseReport } from './read.js';

export interface CollectFlags {
  job: string;
  namespace?: string;
  kubeconfig?: string;
  timeout: number;
  report?: string;
  html?: string;
}

const POLL_MS = 2000;

/** Collects, merges and writes; returns the lines to print. A KubeError goes up to the CLI, which says it in one line. */
export async function runCollect(flags: CollectFlags, pollMs = POLL_MS, onWaiting?: (line: string) => void): Promise<{ lines: string[]; passed: boolean }> {
  // Loaded here, not at the top: `report` alone never pays for @kubernetes/client-node.
  const { connectKube } = await import('../kube/kubeconfig.js');
  const { collectJobReports } = await import('../kube/collect.js');
  const { kubeConfig, namespace } = connectKube({
    ...(flags.kubeconfig ? { search: { kubeconfig: flags.kubeconfig } } : {}),
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
  });
  const collected = await collectJobReports({
    kubeConfig,
    namespace,
    job: flags.job,
    timeoutMs: flags.timeout,
    pollMs,
    onWaiting: (job) => onWaiting?.(`waiting for job ${job.name} in namespace ${namespace} (${job.completions} pods) to finish`),
  });
  if (collected.reports.length === 0) throw new UsageError(`job ${flags.job}: no pod printed a report in its log (${collected.missing.join(', ')})`);
  const named: NamedReport[] = collected.reports.map(({ source, text }) => {
    const parsed = parseReport(text);
    if (!parsed.ok) throw new UsageError(`${source}: ${parsed.reason}`);
    return { file: source, report: parsed.report };
  });
  const report = mergeReports(named);
  const json = flags.report ?? `${flags.job}-report.json`;
  writeReport(json, report);
  const lines = [
    `job ${flags.job} ${collected.job.finished}: ${named.length} report${named.length === 1 ? '' : 's'} from ${named.map((n) => n.file).join(', ')}` +
      (collected.missing.length > 0 ? `; no report from ${collected.missing.join(', ')}` : ''),
    `wrote ${json}`,
    ...(await writeReportOutputs(report, { html: flags.html ?? `${flags.job}-report.html` }, json)),
    report.verdict.passed ? 'PASS' : `FAIL: ${report.verdict.broken.join('; ')}`,
  ];
  return { lines, passed: report.verdict.passed };
}

export function registerCollectCommand(program: Command, io: CommandIo): void {
  program
    .command('collect')
    .description("wait for a client Job, read each pod's report from its log, merge them and write the JSON and HTML reports")
    .addOption(new Option('--job <name>', 'the client Job (an Indexed Job whose pods print their report at the end)').env('JOB_NAME').makeOptionMandatory())
    .addOption(new Option('--namespace <name>', "namespace (default: the kubeconfig context's, else default)").env('NAMESPACE'))
    .addOption(new Option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then the in-cluster service account)').env('KUBECONFIG'))
    .addOption(new Option('--timeout <duration>', 'give up waiting for the Job after this long').env('COLLECT_TIMEOUT').argParser(durationOption).default(3_600_000, '1h'))
    .addOption(new Option('--report <file>', 'the merged JSON report (default: JOB-report.json)').env('REPORT_FILE'))
    .addOption(new Option('--html <file>', 'the merged HTML page (default: JOB-report.html)').env('REPORT_HTML'))
    .action(async (flags: CollectFlags) => {
      const lines = await runCollect(flags, POLL_MS, (line) => io.err(`${line}\n`));
      for (const line of lines.lines) io.out(`${line}\n`);
      // Like the client: exit 1 when the merged run broke a limit, so CI can gate on it.
      io.setExitCode(lines.passed ? 0 : 1);
    });
}

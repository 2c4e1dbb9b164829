// `affinity-tester report FILE...`: one or more JSON reports in (several are merged into one),
// a self-contained HTML page out; --svg and --png write the timeline chart alone, --json prints
// the (merged) report. Reading and writing happen here; everything else is pure.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { CommandIo } from '../common/command-io.js';
import { SetupError, UsageError } from '../common/errors.js';
import type { ClientReport } from '../client/report.js';
import { mergeReports, type NamedReport } from './merge.js';
import { parseReport } from './read.js';

export interface ReportFlags {
  html?: string;
  svg?: string;
  png?: string;
  json?: boolean;
}

const REPORT_HELP = `
With several FILEs (one per client of a scaled-out run), the reports are merged into one: sessions
of all clients (numbered on, client after client), one timeline, per-pod figures summed, the
verdict taken again from the summed totals. Reports that disagree on settings or ran at different
times still merge, and the page lists the differences. A file that is not a report of this
version is a one-line error naming it (exit 2).

Without --html, --svg, --png or --json the page goes to the first FILE with .html for .json.
The page loads nothing from the network: the charts are inline SVG, the fonts the browser's own.`;

/** Reads and checks every file: a bad one is a usage error that names it. */
export function readReports(files: readonly string[]): NamedReport[] {
  return files.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    const parsed = parseReport(text);
    if (!parsed.ok) throw new UsageError(`${file}: ${parsed.reason}`);
    return { file, report: parsed.report };
  });
}

/** Whole or not at all (temporary file, then rename), like the JSON report. */
function writeOutput(path: string, data: string | Buffer, flag: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, data);
    renameSync(temporary, path);
  } catch (error) {
    throw new SetupError('output-unwritable', `cannot write ${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

export function defaultHtmlPath(file: string): string {
  return file.endsWith('.json') ? `${file.slice(0, -5)}.html` : `${file}.html`;
}

/**
 * Writes what the flags ask for and returns the lines to print. The charting libraries load here,
 * not with the CLI: every other subcommand (the server in a pod first) starts without them.
 */
export async function writeReportOutputs(report: ClientReport, flags: ReportFlags, firstFile: string): Promise<string[]> {
  const { renderCharts, renderSvg, timelineSpec } = await import('./charts.js');
  const { renderHtml } = await import('./html.js');
  const lines: string[] = [];
  const html = flags.html ?? (flags.svg === undefined && flags.png === undefined && !flags.json ? defaultHtmlPath(firstFile) : undefined);
  if (flags.json) lines.push(JSON.stringify(report, null, 2));
  if (html !== undefined) {
    const charts = await renderCharts(report);
    writeOutput(html, renderHtml(report, charts), '--html');
    lines.push(`wrote ${html}: ${charts === undefined ? 'no timeline, no charts' : '3 charts'}, ${report.events.length + report.eventsOmitted} breaks`);
  }
  if (flags.svg !== undefined || flags.png !== undefined) {
    if (report.timeline === undefined || report.timeline.buckets.length === 0) throw new UsageError(`${firstFile}: the report has no timeline to draw (written before affinity-tester recorded one)`);
    const svg = await renderSvg(timelineSpec(report));
    if (flags.svg !== undefined) {
      writeOutput(flags.svg, svg, '--svg');
      lines.push(`wrote ${flags.svg}`);
    }
    if (flags.png !== undefined) {
      const { svgToPng } = await import('./png.js');
      writeOutput(flags.png, svgToPng(svg), '--png');
      lines.push(`wrote ${flags.png}`);
    }
  }
  return lines;
}

export function registerReportCommand(program: Command, io: CommandIo): void {
  program
    .command('report')
    .description('render JSON reports as one self-contained HTML page with charts (several reports are merged)')
    .argument('<file...>', 'JSON reports written by client --report (or demo)')
    .addOption(new Option('--html <file>', 'write the HTML page here (default: the first FILE with .html for .json)').env('REPORT_HTML'))
    .addOption(new Option('--svg <file>', 'write the timeline chart alone as SVG').env('REPORT_SVG'))
    .addOption(new Option('--png <file>', 'write the timeline chart alone as PNG (rendered without a browser)').env('REPORT_PNG'))
    .addOption(new Option('--json', 'print the (merged) report as JSON on stdout').env('REPORT_JSON'))
    .addHelpText('after', REPORT_HELP)
    .action(async (files: string[], flags: ReportFlags) => {
      const report = mergeReports(readReports(files));
      for (const line of await writeReportOutputs(report, flags, files[0]!)) io.out(`${line}\n`);
      io.setExitCode(0);
    });
}

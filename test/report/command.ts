import t from 'tap';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import type { CommandIo } from '../../common/command-io.js';
import { UsageError } from '../../common/errors.js';
import { defaultHtmlPath, registerReportCommand } from '../../report/command.js';
import { runCli } from '../fixtures/cli.js';
import { DEMO_REPORT, SECOND_REPORT, loadReport } from '../fixtures/reports.js';
import { makeTempDir } from '../fixtures/temp-dir.js';

async function report(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ out: string; code: number | undefined }> {
  let out = '';
  let code: number | undefined;
  const io: CommandIo = { out: (text) => (out += text), err: () => undefined, env, isTTY: false, setExitCode: (c) => (code = c) };
  const program = new Command().exitOverride();
  registerReportCommand(program, io);
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    await program.parseAsync(['report', ...args], { from: 'user' });
  } finally {
    process.env = saved;
  }
  return { out, code };
}

t.test('report FILE writes the page beside the file, with .html for .json', async (t) => {
  const dir = makeTempDir('report-command-');
  const file = join(dir, 'run.json');
  copyFileSync(DEMO_REPORT, file);
  const { out, code } = await report([file]);
  t.equal(out, `wrote ${join(dir, 'run.html')}: 3 charts, 22 breaks\n`);
  t.equal(code, 0);
  t.match(readFileSync(join(dir, 'run.html'), 'utf8'), '<div class="verdict fail">');
  t.equal(defaultHtmlPath('report'), 'report.html');
});

t.test('report --svg and --png (or REPORT_PNG) write the timeline alone, and no page unless --html', async (t) => {
  const dir = makeTempDir('report-command-');
  const { out } = await report([DEMO_REPORT, '--svg', join(dir, 't.svg')], { REPORT_PNG: join(dir, 't.png') });
  t.equal(out, `wrote ${join(dir, 't.svg')}\nwrote ${join(dir, 't.png')}\n`);
  t.match(readFileSync(join(dir, 't.svg'), 'utf8'), /^<svg [^>]*>.*Requests, losses and breaks per second/s);
  t.same([...readFileSync(join(dir, 't.png')).subarray(1, 4)], [0x50, 0x4e, 0x47]);
  t.notOk(existsSync(DEMO_REPORT.replace('.json', '.html')));
});

t.test('report --json A B prints the merged report', async (t) => {
  const { out } = await report([DEMO_REPORT, SECOND_REPORT, '--json']);
  const merged = JSON.parse(out);
  t.equal(merged.totals.sent, loadReport(DEMO_REPORT).totals.sent + loadReport(SECOND_REPORT).totals.sent);
  t.equal(merged.merged.reports.length, 2);
});

t.test('report --svg of a report without a timeline is a usage error naming the file', async (t) => {
  const dir = makeTempDir('report-command-');
  const file = join(dir, 'old.json');
  const { timeline: _, ...old } = loadReport(DEMO_REPORT);
  writeFileSync(file, JSON.stringify(old));
  await t.rejects(report([file, '--svg', join(dir, 't.svg')]), new UsageError(`${file}: the report has no timeline to draw (written before affinity-tester recorded one)`));
  await t.rejects(report([join(dir, 'missing.json')]), new UsageError(`cannot read ${join(dir, 'missing.json')}: ENOENT`));
});

t.test('affinity-tester report of a damaged file prints one line naming it and exits 2', async (t) => {
  const dir = makeTempDir('report-command-');
  writeFileSync(join(dir, 'cut.json'), readFileSync(DEMO_REPORT, 'utf8').slice(0, 300));
  const result = await runCli(['report', DEMO_REPORT, join(dir, 'cut.json')]);
  t.equal(result.code, 2);
  t.match(result.stderr, new RegExp(`^affinity-tester: ${join(dir, 'cut.json')}: not valid JSON \\([^\\n]*\\)\\n$`));
  t.equal(result.stdout, '');
});

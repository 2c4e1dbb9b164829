// `affinity-tester demo`: the whole tool on one machine, no cluster needed (see run-demo.ts).
import type { CommandIo } from '../common/command-io.js';
import type { Command } from 'commander';
import { ExitCode } from '../common/errors.js';
import { terminalStyle } from '../common/terminal-style.js';
import { addRunOptions, checkRunFlags, runSettingsFrom, type RunFlags } from '../client/command.js';
import { interruptOnSignals } from '../client/interrupt.js';
import { runDemo, STALE_FLOWS } from './run-demo.js';

const DEMO_HELP = `
The demo starts three STUN server "pods" (pod-a, pod-b, pod-c on node-1/node-2) on 127.0.0.1,
puts them behind a DEMO FIXTURE: a small local UDP balancer that pins each flow to a pod like
kube-proxy and conntrack do, and runs the client against it, with the demo's own cluster watch.
At 20% of --duration it adds pod-d (existing flows stay put); at 35% the balancer restarts and
forgets every flow while all pods stay (violations, red); at 50% it removes pod-b (its flows move:
expected moves, yellow) but leaves up to ${STALE_FLOWS} flows pointing at it (STUCK, red); at 85% it
clears those (RECOVERED). It ends by itself after --duration, prints the summary and writes the
report. The verdict is FAIL (violations and stuck sessions), yet the demo exits 0: the breaks are
caused on purpose.`;

export function registerDemoCommand(program: Command, io: CommandIo): void {
  const command = program
    .command('demo')
    .description('run a local demo: three server pods behind a demo balancer (a test fixture), and the client');
  addRunOptions(command, {
    sessions: 30,
    ramp: '2s',
    interval: '500ms',
    timeout: '1s',
    duration: '25s',
    statsInterval: '5s',
    report: 'affinity-demo-report.json',
    reportHtml: 'affinity-demo-report.html',
  })
    .addHelpText('after', DEMO_HELP)
    .action(async (flags: RunFlags & { duration: number }) => {
      checkRunFlags(flags);
      const style = terminalStyle({ isTTY: io.isTTY }, io.env);
      const write = (line: string): void => io.out(`${line}\n`);
      const interrupt = interruptOnSignals((line) => write(style.bold(line)));
      try {
        const result = await runDemo({
          ...runSettingsFrom(flags),
          durationMs: flags.duration,
          write,
          style,
          signal: interrupt.signal,
        });
        // Broken limits are the point of the demo; only a report that could not be written fails it.
        io.setExitCode(result.reportError === undefined && result.htmlError === undefined ? ExitCode.Ok : ExitCode.Failed);
      } finally {
        interrupt.dispose();
      }
    });
}

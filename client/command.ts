// `affinity-tester client`: flags and environment variables in, one run, an exit code out. The
// client's edge: the only file in client/ that picks an exit code, and it reaches the process only
// through the CommandIo it is handed, so a test can run the command in-process.
import type { CommandIo } from '../common/command-io.js';
import { Command, Option } from 'commander';
import { ExitCode, UsageError } from '../common/errors.js';
import type { ClusterWatch } from '../common/cluster-events.js';
import { monotonicClock } from '../common/clock.js';
import { durationOption, integerOption, numberOption, portOption } from '../common/options.js';
import { terminalStyle } from '../common/terminal-style.js';
import { interruptOnSignals } from './interrupt.js';
import { discoverTarget, kubeconfigAvailable, startWatch } from './kube-integration.js';
import { startLiveView, type LiveView } from './live-view.js';
import { runClient, type ClientRunOptions, type ClientRunResult } from './run.js';
import { resolveTarget, targetFrom } from './target.js';
import { exitCodeOf } from './verdict.js';

/** Enough for the pod, node, counter, SOFTWARE and FINGERPRINT in an IPv6 reply with long names. */
export const DEFAULT_PAYLOAD_SIZE = 256;
/** Requests stay within one unfragmented datagram on any sane path. */
export const MAX_PAYLOAD_SIZE = 1200;
export const MAX_SESSIONS = 100_000;

export interface RunDefaults {
  sessions: number;
  ramp: string;
  interval: string;
  timeout: string;
  duration?: string;
  statsInterval: string;
  report: string;
}

export interface RunFlags {
  sessions: number;
  ramp: number;
  interval: number;
  timeout: number;
  payloadSize: number;
  duration?: number;
  statsInterval: number;
  events?: string;
  report: string;
  maxLoss: number;
  maxPodChanges: number;
  maxAddressChanges: number;
}

/** The flags a run takes, shared by `client` and `demo` (which only changes the defaults). */
export function addRunOptions(command: Command, defaults: RunDefaults): Command {
  const duration = (flag: string, env: string, text: string, value?: string): Option => {
    const option = new Option(flag, text).env(env).argParser(durationOption);
    return value === undefined ? option : option.default(durationOption(value), value);
  };
  return command
    .addOption(
      new Option('--sessions <n>', 'simulated sessions, each with its own UDP socket and source port')
        .env('SESSIONS')
        .default(defaults.sessions)
        .argParser(integerOption(1, MAX_SESSIONS)),
    )
    .addOption(duration('--ramp <duration>', 'RAMP', 'start the sessions spread over this long, so the target is not hit by a burst', defaults.ramp))
    .addOption(duration('--interval <duration>', 'INTERVAL', 'time between two requests of one session (each session has its own phase)', defaults.interval))
    .addOption(duration('--timeout <duration>', 'TIMEOUT', 'a request unanswered this long counts as lost (an answer after it counts as late)', defaults.timeout))
    .addOption(
      new Option(
        '--payload-size <bytes>',
        'pad each request to this many bytes; the server only adds its pod, node and request counter when they fit ' +
          'in a reply no larger than the request (anti-amplification), and 256 fits typical pod and node names',
      )
        .env('PAYLOAD_SIZE')
        .default(DEFAULT_PAYLOAD_SIZE)
        .argParser(integerOption(20, MAX_PAYLOAD_SIZE)),
    )
    .addOption(duration('--duration <duration>', 'DURATION', defaults.duration ? 'stop after this long' : 'stop after this long (default: until Ctrl-C)', defaults.duration))
    .addOption(duration('--stats-interval <duration>', 'STATS_INTERVAL', 'print a stats line this often', defaults.statsInterval))
    .addOption(new Option('--events <file>', 'also write every event and stats line to this file as NDJSON (pino); stdout stays human').env('EVENTS_FILE'))
    .addOption(
      new Option('--report <file>', 'write the JSON report here at the end, also after Ctrl-C').env('REPORT_FILE').default(defaults.report),
    )
    .addOption(
      new Option('--max-loss <percent>', 'exit 1 if more than this percentage of requests was lost')
        .env('MAX_LOSS')
        .default(1)
        .argParser(numberOption(0, 100)),
    )
    .addOption(
      new Option('--max-pod-changes <n>', 'exit 1 if sessions changed pod more often than this, in total')
        .env('MAX_POD_CHANGES')
        .default(0)
        .argParser(integerOption(0)),
    )
    .addOption(
      new Option('--max-address-changes <n>', 'exit 1 if reflective addresses changed more often than this, in total')
        .env('MAX_ADDRESS_CHANGES')
        .default(0)
        .argParser(integerOption(0)),
    );
}

/** 0 within the limits, 1 when one was broken or the report could not be written. */
export function runExitCode(result: ClientRunResult): number {
  return result.reportError !== undefined ? ExitCode.Failed : exitCodeOf(result.verdict);
}

/** Checks that flags make sense together; UsageError otherwise. */
export function checkRunFlags(flags: RunFlags): void {
  if (flags.interval < 1) throw new UsageError('--interval must be at least 1ms');
  if (flags.timeout < 1) throw new UsageError('--timeout must be at least 1ms');
  if (flags.statsInterval < 100) throw new UsageError('--stats-interval must be at least 100ms');
  if (flags.duration !== undefined && flags.duration < 1) throw new UsageError('--duration must be at least 1ms');
}

/** The part of a run's options that comes straight from the shared flags. */
export function runSettingsFrom(flags: RunFlags) {
  return {
    sessions: flags.sessions,
    rampMs: flags.ramp,
    intervalMs: flags.interval,
    timeoutMs: flags.timeout,
    payloadSize: flags.payloadSize,
    durationMs: flags.duration,
    statsIntervalMs: flags.statsInterval,
    limits: { maxLoss: flags.maxLoss, maxPodChanges: flags.maxPodChanges, maxAddressChanges: flags.maxAddressChanges },
    reportFile: flags.report === '' ? undefined : flags.report,
    eventsFile: flags.events,
  } satisfies Partial<ClientRunOptions>;
}

interface ClientFlags extends RunFlags {
  target?: string;
  watch?: boolean;
  namespace?: string;
  service: string;
  discoverTimeout: number;
  status?: boolean;
  metricsPort?: number;
  metricsHost: string;
}

const CLIENT_HELP = `
Target: --target HOST:PORT, [IPv6]:PORT, or a host name (port 3478 when omitted); or the
environment variables TARGET_ADDR and TARGET_PORT (the names in env.list). Without either and with
a kubeconfig, the client discovers the LoadBalancer address of --service.

Output: one line when each session is established; a red line for every pod change
(pod-a (node-1) -> pod-b (node-2)) and reflective address change (ip:port -> ip:port), with how
long the session had been silent; a stats line every --stats-interval; a summary and the JSON
report at the end (also on Ctrl-C; a second Ctrl-C quits at once). Requests still within their
timeout when the run stops are reported as pending, not lost. Colours only on a terminal, never
with NO_COLOR.

Exit codes: 0 within --max-loss, --max-pod-changes and --max-address-changes; 1 when a limit was
broken (the summary says which); 2 for usage or set-up errors (bad flag, unresolvable target, too
few file descriptors: each session needs one).`;

export function registerClientCommand(program: Command, io: CommandIo): void {
  const command = program
    .command('client')
    .description('run simulated UDP sessions against a target and report affinity breaks')
    .addOption(new Option('--target <host:port>', 'where to send: HOST:PORT or [IPv6]:PORT (env: TARGET_ADDR and TARGET_PORT)'));
  addRunOptions(command, { sessions: 100, ramp: '10s', interval: '1s', timeout: '2s', statsInterval: '10s', report: 'affinity-report.json' })
    .addOption(
      new Option(
        '--watch',
        'watch the cluster (pods, EndpointSlices, nodes, events) and show what happened before each break ' +
          '(default: on when a kubeconfig is found; env: WATCH=true|false)',
      ),
    )
    .addOption(new Option('--no-watch', 'do not watch the cluster'))
    .addOption(new Option('--namespace <name>', "the Service's namespace (default: the kubeconfig context's)").env('NAMESPACE'))
    .addOption(new Option('--service <name>', 'the Service to watch and to discover the target from').env('SERVICE').default('affinity-tester'))
    .addOption(
      new Option('--discover-timeout <duration>', 'how long to wait for the LoadBalancer address when discovering the target')
        .env('DISCOVER_TIMEOUT')
        .default(durationOption('2m'), '2m')
        .argParser(durationOption),
    )
    .addOption(new Option('--no-status', 'no status line at the bottom of the terminal (env: STATUS=off; never shown when stdout is not a terminal)'))
    .addOption(new Option('--metrics-port <port>', 'serve Prometheus metrics on /metrics at this port (default: off; 0 = any free port)').env('METRICS_PORT').argParser(portOption))
    .addOption(new Option('--metrics-host <address>', 'the address --metrics-port listens on').env('METRICS_HOST').default('0.0.0.0'))
    .addHelpText('after', CLIENT_HELP)
    .action(async (flags: ClientFlags) => {
      io.setExitCode(await clientAction(flags, io));
    });
}

/**
 * --watch/--no-watch win; then WATCH (read here, since commander would treat WATCH=false as
 * "set"); then whether a kubeconfig is there.
 */
export function watchWanted(flag: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  if (flag !== undefined) return flag;
  const raw = env.WATCH?.trim().toLowerCase();
  if (raw !== undefined && raw !== '') return !['0', 'false', 'no', 'off'].includes(raw);
  return kubeconfigAvailable(env);
}

/** --no-status wins; then STATUS (off, false, no, 0 turn it off); on by default. */
export function statusWanted(flag: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  if (flag === false) return false;
  const raw = env.STATUS?.trim().toLowerCase();
  return raw === undefined || !['0', 'false', 'no', 'off'].includes(raw);
}

async function clientAction(flags: ClientFlags, io: CommandIo): Promise<number> {
  checkRunFlags(flags);
  const style = terminalStyle({ isTTY: io.isTTY }, io.env);
  const clock = monotonicClock;
  const live: LiveView = await startLiveView({
    io,
    status: statusWanted(flags.status, io.env),
    metrics: flags.metricsPort === undefined ? undefined : { host: flags.metricsHost, port: flags.metricsPort },
    durationMs: flags.duration,
    clock,
  });
  const write = live.write;
  const interrupt = interruptOnSignals((line) => write(style.bold(line)));
  let watch: ClusterWatch | undefined;
  try {
    let parsed = targetFrom(flags.target, io.env);
    if (parsed === undefined) {
      if (!kubeconfigAvailable(io.env)) {
        throw new UsageError('no target: give --target HOST:PORT, or set TARGET_ADDR (and TARGET_PORT), or run where a kubeconfig is available');
      }
      write(`no target given: discovering the LoadBalancer address of Service ${flags.service}`);
      const found = await discoverTarget({
        namespace: flags.namespace,
        service: flags.service,
        timeoutMs: flags.discoverTimeout,
        onProgress: (text) => write(style.dim(text)),
        signal: interrupt.signal,
      });
      parsed = { ok: true, target: found };
    }
    if (!parsed.ok) throw new UsageError(`--target: ${parsed.reason}`);
    const target = await resolveTarget(parsed.target);

    if (watchWanted(flags.watch, io.env)) {
      const started = await startWatch({
        namespace: flags.namespace,
        service: flags.service,
        clock,
        onWarning: (text) => write(style.yellow(`cluster watch: ${text}`)),
      });
      if (started.ok) watch = started.watch;
      else write(style.yellow(`cluster watch off: ${started.reason}`));
    }

    const result = await runClient({
      mode: 'client',
      target,
      ...runSettingsFrom(flags),
      write,
      style,
      signal: interrupt.signal,
      watch,
      clock,
      onReady: live.onReady,
    });
    return runExitCode(result);
  } finally {
    await live.close();
    interrupt.dispose();
    await watch?.close().catch(() => undefined);
  }
}

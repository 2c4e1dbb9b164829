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
import { discoverTargets, kubeconfigAvailable, startWatch, type DiscoverFamily } from './kube-integration.js';
import { startLiveView, type LiveView } from './live-view.js';
import type { ClientRunOptions, ClientRunResult } from './run.js';
import { parseTarget, resolveTarget, targetFrom, type TargetSpec } from './target.js';
import { addProtocolOptions, reconnectPolicyOf, type ProtocolFlags } from './protocol-options.js';
import { runProtocols } from './protocol-runs.js';
import { addGateOptions, type GateFlags } from './gate-options.js';
import { runGate } from './gate-run.js';
import { DEFAULT_STUCK_AFTER_MS } from './break-classifier.js';
import { DEFAULT_MAX_STUCK, DEFAULT_MAX_VIOLATIONS, exitCodeOf } from './verdict.js';

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
  /** The HTML page's default; undefined writes none unless --report-html is given. */
  reportHtml?: string;
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
  reportHtml?: string;
  maxLoss: number;
  maxViolations: number;
  maxStuck: number;
  stuckAfter: number;
  /** Undefined: no limit. */
  maxPodChanges?: number;
  maxAddressChanges?: number;
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
    .addOption(reportHtmlOption(defaults.reportHtml))
    .addOption(
      new Option('--max-loss <percent>', 'exit 1 if more than this percentage of requests was lost')
        .env('MAX_LOSS')
        .default(1)
        .argParser(numberOption(0, 100)),
    )
    .addOption(
      new Option('--max-violations <n>', 'exit 1 if more sessions than this moved off a pod that was still in the Service')
        .env('MAX_VIOLATIONS')
        .default(DEFAULT_MAX_VIOLATIONS)
        .argParser(integerOption(0)),
    )
    .addOption(
      new Option('--max-stuck <n>', 'exit 1 if more sessions than this were stuck (unanswered for --stuck-after while others were answered)')
        .env('MAX_STUCK')
        .default(DEFAULT_MAX_STUCK)
        .argParser(integerOption(0)),
    )
    .addOption(
      duration(
        '--stuck-after <duration>',
        'STUCK_AFTER',
        'a session unanswered this long while the Service answers other sessions is stuck (longer than --timeout)',
        `${DEFAULT_STUCK_AFTER_MS / 1000}s`,
      ),
    )
    .addOption(
      new Option('--max-pod-changes <n>', 'stricter: exit 1 if sessions changed pod more often than this, expected moves included (default: no limit)')
        .env('MAX_POD_CHANGES')
        .argParser(integerOption(0)),
    )
    .addOption(
      new Option('--max-address-changes <n>', 'stricter: exit 1 if reflective addresses changed more often than this, in total (default: no limit)')
        .env('MAX_ADDRESS_CHANGES')
        .argParser(integerOption(0)),
    );
}

function reportHtmlOption(fallback: string | undefined): Option {
  const option = new Option(
    '--report-html <file>',
    'also write the report as one self-contained HTML page with charts at the end, also after Ctrl-C (as `affinity-tester report` does; "" for none)',
  ).env('REPORT_HTML');
  return fallback === undefined ? option : option.default(fallback);
}

/** One line at a time to the command's standard output (the CLI's io drops it once stdout is gone). */
export function lineWriter(io: CommandIo): (line: string) => void {
  return (line) => {
    io.out(line + '\n');
  };
}

/** 0 within the limits, 1 when one was broken or the report (JSON or HTML) could not be written. */
export function runExitCode(result: ClientRunResult): number {
  return result.reportError !== undefined || result.htmlError !== undefined ? ExitCode.Failed : exitCodeOf(result.verdict);
}

/** Checks that flags make sense together; UsageError otherwise. */
export function checkRunFlags(flags: RunFlags): void {
  if (flags.interval < 1) throw new UsageError('--interval must be at least 1ms');
  if (flags.timeout < 1) throw new UsageError('--timeout must be at least 1ms');
  if (flags.statsInterval < 100) throw new UsageError('--stats-interval must be at least 100ms');
  if (flags.duration !== undefined && flags.duration < 1) throw new UsageError('--duration must be at least 1ms');
  // A shorter one would mark slow but healthy replies as stuck.
  if (flags.stuckAfter <= flags.timeout) throw new UsageError('--stuck-after must be longer than --timeout');
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
    stuckAfterMs: flags.stuckAfter,
    limits: {
      maxLoss: flags.maxLoss,
      maxViolations: flags.maxViolations,
      maxStuck: flags.maxStuck,
      ...(flags.maxPodChanges === undefined ? {} : { maxPodChanges: flags.maxPodChanges }),
      ...(flags.maxAddressChanges === undefined ? {} : { maxAddressChanges: flags.maxAddressChanges }),
    },
    reportFile: flags.report === '' ? undefined : flags.report,
    htmlFile: flags.reportHtml === undefined || flags.reportHtml === '' ? undefined : flags.reportHtml,
    eventsFile: flags.events,
  } satisfies Partial<ClientRunOptions>;
}

interface ClientFlags extends RunFlags, ProtocolFlags, GateFlags {
  target?: string[];
  family: 'any' | '4' | '6' | 'both';
  watch?: boolean;
  namespace?: string;
  service: string;
  discoverTimeout: number;
  bindAddress?: string;
  status?: boolean;
  metricsPort?: number;
  metricsHost: string;
}

const CLIENT_HELP = `
Target: --target HOST:PORT, [IPv6]:PORT, or a host name (port 3478 when omitted); or the
environment variables TARGET_ADDR and TARGET_PORT (the names in env.list). Without either and with
a kubeconfig, the client discovers the LoadBalancer address of --service.

Dual stack: give --target twice (one address per family, or any two targets), or --family both
with discovery; sessions are split round robin, each keeps its target, and the stats lines, the
summary and the report (targets, and each session's target) show each target apart.

Output: one line when each session is established; a line for every pod change with its class:
red "(violation: pod-b still ready)" when the pod it left was still in the Service, yellow
"(expected: pod-b removed 400ms before)" when it had left (from the cluster watch, or inferred
from the run without one); a red line for every reflective address change (a NAT rebinding on the
same pod, or with a pod change); a red STUCK line when a session goes unanswered for
--stuck-after while others are answered, and a RECOVERED line when it is answered again; one
grouped line when many sessions leave a pod together; a stats line every --stats-interval; a
summary and the JSON report at the end (also on Ctrl-C; a second Ctrl-C quits at once). Requests
still within their timeout when the run stops are reported as pending, not lost. Colours only on
a terminal, never with NO_COLOR.

Exit codes: 0 within --max-violations, --max-stuck and --max-loss (and --max-pod-changes and
--max-address-changes when given); expected moves never fail a run. 1 when a limit was broken
(the summary says which); 2 for usage or set-up errors (bad flag, unresolvable target, too few
file descriptors: each session needs one).`;

export function registerClientCommand(program: Command, io: CommandIo): void {
  const command = program
    .command('client')
    .description('run simulated UDP sessions against a target and report affinity breaks')
    .addOption(
      new Option('--target <host:port>', 'where to send: HOST:PORT or [IPv6]:PORT (env: TARGET_ADDR and TARGET_PORT); twice to split the sessions between two targets')
        .argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
    )
    .addOption(
      new Option('--family <family>', "which of a dual-stack Service's discovered addresses: 4, 6, any (the first), or both (sessions split between the two)")
        .env('DISCOVER_FAMILY')
        .choices(['4', '6', 'any', 'both'])
        .default('any'),
    );
  addRunOptions(command, { sessions: 100, ramp: '10s', interval: '1s', timeout: '2s', statsInterval: '10s', report: 'affinity-report.json' })
    .addOption(
      new Option(
        '--watch',
        'watch the cluster (pods, EndpointSlices, nodes, events) and show what happened before each break ' +
          '(default: on when a kubeconfig is found; env: WATCH=true|false)',
      ),
    )
    .addOption(new Option('--no-watch', 'do not watch the cluster'));
  addGateOptions(addProtocolOptions(command))
    .addOption(new Option('--namespace <name>', "the Service's namespace (default: the kubeconfig context's)").env('NAMESPACE'))
    .addOption(new Option('--service <name>', 'the Service to watch and to discover the target from').env('SERVICE').default('affinity-tester'))
    .addOption(
      new Option('--discover-timeout <duration>', 'how long to wait for the LoadBalancer address when discovering the target')
        .env('DISCOVER_TIMEOUT')
        .default(durationOption('2m'), '2m')
        .argParser(durationOption),
    )
    .addOption(
      new Option(
        '--bind-address <ip>',
        "bind the session sockets to this local address (default: all); every session takes a port of the kernel's " +
          'ephemeral range (net.ipv4.ip_local_port_range, about 28,000), so clients on one machine that together run more ' +
          'sessions than that each need their own address (127.0.0.2, 127.0.0.3, ... on loopback)',
      ).env('BIND_ADDRESS'),
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

/** The targets given by --target (once or more) or TARGET_ADDR; undefined when none is, so discovery runs. */
export function givenTargets(flags: Pick<ClientFlags, 'target' | 'family'>, env: NodeJS.ProcessEnv): TargetSpec[] | undefined {
  const flagged = (flags.target ?? []).filter((text) => text !== '');
  const parsed = flagged.length > 1 ? flagged.map(parseTarget) : [targetFrom(flagged[0], env)].filter((p) => p !== undefined);
  if (parsed.length === 0) return undefined;
  if (flags.family !== 'any') throw new UsageError('--family picks among discovered addresses; with a target given, give --target once per family instead');
  return parsed.map((p) => {
    if (!p.ok) throw new UsageError(`--target: ${p.reason}`);
    return p.target;
  });
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
    let specs = givenTargets(flags, io.env);
    if (specs === undefined) {
      if (!kubeconfigAvailable(io.env)) {
        throw new UsageError('no target: give --target HOST:PORT, or set TARGET_ADDR (and TARGET_PORT), or run where a kubeconfig is available');
      }
      const family: DiscoverFamily = flags.family === '4' ? 4 : flags.family === '6' ? 6 : flags.family;
      write(`no target given: discovering the ${family === 'both' ? 'IPv4 and IPv6 LoadBalancer addresses' : 'LoadBalancer address'} of Service ${flags.service}`);
      specs = await discoverTargets({
        namespace: flags.namespace,
        service: flags.service,
        timeoutMs: flags.discoverTimeout,
        family,
        onProgress: (text) => write(style.dim(text)),
        signal: interrupt.signal,
      });
    }
    const [target, ...extraTargets] = await Promise.all(specs.map(resolveTarget));
    if (extraTargets.some((extra) => extra.endpoint === target!.endpoint)) throw new UsageError(`--target: ${target!.endpoint} is given twice; give one target per family`);

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

    if (extraTargets.length > 0 && flags.protocol !== 'udp') throw new UsageError('two targets work over UDP only: drop the second --target or use --protocol udp');
    const run: ClientRunOptions = {
      mode: 'client',
      target: target!,
      ...(extraTargets.length > 0 ? { extraTargets } : {}),
      ...runSettingsFrom(flags),
      reconnect: reconnectPolicyOf(flags, io.env),
      write,
      style,
      signal: interrupt.signal,
      watch,
      clock,
      bindAddress: flags.bindAddress,
      onReady: live.onReady,
    };
    if (flags.untilStable !== undefined) {
      return await runGate({ protocol: flags.protocol, windowMs: flags.untilStable, maxTries: flags.maxTries, retryWaitMs: flags.retryWait, run, style });
    }
    const runs = await runProtocols(flags.protocol, run, style);
    return Math.max(...runs.map((r) => runExitCode(r.result)));
  } finally {
    await live.close();
    interrupt.dispose();
    await watch?.close().catch(() => undefined);
  }
}

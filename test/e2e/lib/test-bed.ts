// Builds the bed described by a BedPlan out of real namespaces, veths and a bridge, applies the
// kube-proxy layouts, reads conntrack, and removes everything afterwards. Everything this module
// creates is recorded at once, so that teardown (also from a process exit handler, after a failed
// test or a Ctrl-C) removes exactly what this run made and nothing else.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PACKAGE_ROOT } from '../../../common/version.js';
import { namespaceNames, type BedPlan, type PodPlan } from './bed-plan.js';
import { inNamespace, must, run, runSyncQuietly } from './command.js';
import { natPortsByLocalPort, parseConntrack, parseConntrackEvents, serviceFlows, type ConntrackEvent, type Flow, type ServiceFlow } from './conntrack.js';
import { iptablesCommands, iptablesFlushCommands, iptablesHookRules, iptablesRestoreInput } from './iptables-layout.js';
import { lossTableScript, LOSS_TABLE, parseLossCounters, type LossCounters } from './loss-rules.js';
import { nftablesDeleteCommand, nftablesTransaction } from './nftables-layout.js';
import type { Endpoint, Family, Protocol, ServiceSpec } from './service.js';

export const CLI_PATH = join(PACKAGE_ROOT, 'dist', 'cli', 'affinity-tester.js');

export type Layout = 'iptables' | 'nftables';
export type NatMode = 'masquerade' | 'masquerade-random-fully';

/** Why the bed cannot run here, or undefined when it can. */
export async function unsupportedReason(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'the end-to-end test bed needs root (it creates network namespaces and sets iptables, nftables and conntrack state): run it as root';
  for (const tool of [['ip', '-V'], ['ss', '-V'], ['iptables', '--version'], ['nft', '--version'], ['conntrack', '--version'], ['sysctl', '--version']]) {
    const result = await run(tool);
    if (result.code !== 0) return `${tool[0]} is not available (Debian packages iproute2 iptables nftables conntrack procps)`;
  }
  const netns = await run(['ip', 'netns', 'list']);
  if (netns.code !== 0) return `ip netns does not work here: ${netns.stderr.trim()}`;
  if (!existsSync(CLI_PATH)) return `${CLI_PATH} is missing: run "npm run build"`;
  return undefined;
}

/** Beds not yet destroyed, for the exit handler. */
const liveBeds = new Set<{ destroySync(): void }>();
let exitHandlerInstalled = false;

/**
 * Builds `bed` with the exit handler watching: should the process end before destroySync() ran,
 * the handler tears it down. On a failed build, removes what was made and rejects.
 */
export async function createTracked<Bed extends { destroy(): Promise<void>; destroySync(): void }>(bed: Bed, build: (bed: Bed) => Promise<void>): Promise<Bed> {
  installExitHandler();
  liveBeds.add(bed);
  try {
    await build(bed);
  } catch (error) {
    await bed.destroy();
    throw error;
  }
  return bed;
}


function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const bed of liveBeds) bed.destroySync();
  });
  // A signal would end the process without 'exit'; turning it into an exit runs the teardown:
  // Ctrl-C of `npm run e2e`, a kill, and tap's SIGALRM when a test file times out (tap's own
  // listener, registered first, reports the timeout before this one exits).
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  process.once('SIGALRM', () => process.exit(142));
}

export interface ServerProcess {
  pod: PodPlan;
  child: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
}

/**
 * What every bed shares: the processes it started inside its namespaces, and the namespaces
 * themselves, removed once, by destroy() or by the exit handler.
 */
export abstract class NamespaceBed {
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;

  /** Every namespace this bed makes, so that teardown removes exactly these. */
  protected abstract namespaces(): string[];

  exec(namespace: string, argv: readonly string[], input?: string): Promise<string> {
    return must(inNamespace(namespace, argv), input);
  }

  /**
   * Starts `argv` inside `namespace`, tracked so that teardown kills it. Without NODE_OPTIONS:
   * under node-tap it loads tap's process hooks into every Node process a test starts (and tap
   * puts it back into any env a test passes), which runs each module through an ESM loader
   * thread. The bed's servers and clients are the product run end to end, whose lines the unit
   * tests count; without the hooks the scenarios take 43 s and 58 s of CPU instead of 61 and 86.
   */
  spawnIn(namespace: string, argv: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const [command, ...args] = inNamespace(namespace, ['env', '-u', 'NODE_OPTIONS', ...argv]);
    const child = spawn(command!, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** Removes every process and namespace of this bed. Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    for (const child of this.children) child.kill('SIGKILL');
    await Promise.all(
      [...this.children].map((child) => (child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve)))),
    );
    this.destroySync();
  }

  /** The synchronous part of teardown, also what the exit handler runs. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    liveBeds.delete(this);
    for (const child of this.children) child.kill('SIGKILL');
    for (const ns of this.namespaces()) {
      // Processes still inside (started by us through `ip netns exec`) would keep the namespace
      // alive; each is one of ours, found by namespace, and ended by pid.
      for (const pid of runSyncQuietly(['ip', 'netns', 'pids', ns]).split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      runSyncQuietly(['ip', 'netns', 'del', ns]);
    }
  }
}

export class TestBed extends NamespaceBed {
  private readonly servers = new Map<string, ServerProcess>();
  private layout: Layout | undefined;
  private endpoints: Endpoint[] = [];

  private constructor(readonly plan: BedPlan) {
    super();
  }

  protected namespaces(): string[] {
    return namespaceNames(this.plan);
  }

  /** Creates namespaces, links and addresses. On failure, removes what it made and rejects. */
  static async create(plan: BedPlan): Promise<TestBed> {
    return createTracked(new TestBed(plan), (bed) => bed.build());
  }

  private async build(): Promise<void> {
    const p = this.plan;
    const v6 = p.family === 6;
    for (const ns of namespaceNames(p)) {
      await must(['ip', 'netns', 'add', ns]);
      await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      // Before any interface exists, so that each starts with it: without duplicate address
      // detection an address is usable at once instead of "tentative" for a second or more.
      // That matters for link-local addresses too: a router sends the neighbour solicitations
      // for forwarded packets from its link-local address, and sends none while it is tentative.
      if (v6) await this.exec(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    }
    const veth = (a: string, nsA: string, b: string, nsB: string) =>
      must(['ip', 'link', 'add', a, 'netns', nsA, 'type', 'veth', 'peer', 'name', b, 'netns', nsB]);
    const up = (ns: string, dev: string, address?: string, prefixLength?: number) =>
      (address ? must(['ip', '-n', ns, 'addr', 'add', `${address}/${prefixLength}`, 'dev', dev]) : Promise.resolve('')).then(() =>
        must(['ip', '-n', ns, 'link', 'set', dev, 'up']),
      );
    const lengths = p.prefixLengths;

    await veth(p.clientInterface, p.clientNamespace, p.natInsideInterface, p.natNamespace);
    await veth(p.natOutsideInterface, p.natNamespace, p.nodeUplinkInterface, p.nodeNamespace);
    await up(p.clientNamespace, p.clientInterface, p.clientIp, lengths.clientLan);
    await must(['ip', '-n', p.clientNamespace, 'route', 'add', 'default', 'via', p.natInsideIp]);
    await up(p.natNamespace, p.natInsideInterface, p.natInsideIp, lengths.clientLan);
    await up(p.natNamespace, p.natOutsideInterface, p.natPublicIp, lengths.uplink);
    await must(['ip', '-n', p.natNamespace, 'route', 'add', 'default', 'via', p.nodeUplinkIp]);
    await up(p.nodeNamespace, p.nodeUplinkInterface, p.nodeUplinkIp, lengths.uplink);
    // Without multicast snooping the bridge floods IPv6 neighbour discovery (multicast) to every
    // port, whatever MLD reports it has or has not seen yet.
    await must(['ip', '-n', p.nodeNamespace, 'link', 'add', p.bridge, 'type', 'bridge', 'mcast_snooping', '0']);
    await up(p.nodeNamespace, p.bridge, p.bridgeIp, lengths.pods);
    for (const pod of p.pods) {
      await veth(pod.podInterface, pod.namespace, pod.bridgePort, p.nodeNamespace);
      await must(['ip', '-n', p.nodeNamespace, 'link', 'set', pod.bridgePort, 'master', p.bridge]);
      await up(p.nodeNamespace, pod.bridgePort);
      await up(pod.namespace, pod.podInterface, pod.ip, lengths.pods);
      await must(['ip', '-n', pod.namespace, 'route', 'add', 'default', 'via', p.bridgeIp]);
    }
    // Forwarding is per namespace and off in a new one.
    const forwarding = v6 ? 'net.ipv6.conf.all.forwarding=1' : 'net.ipv4.ip_forward=1';
    for (const ns of [p.natNamespace, p.nodeNamespace]) await this.exec(ns, ['sysctl', '-qw', forwarding]);
    await this.setNatMode('masquerade');
  }

  private get family(): Family {
    return this.plan.family;
  }

  /** conntrack's name for the bed's family, for its -f option. */
  private get conntrackFamily(): string {
    return this.family === 6 ? 'ipv6' : 'ipv4';
  }

  /**
   * Plain MASQUERADE keeps a socket's port when it is free; --random-fully picks a new one per
   * flow. In an IPv6 bed this is NAT66 (ip6tables), which rebinds ports the same way.
   */
  async setNatMode(mode: NatMode): Promise<void> {
    const p = this.plan;
    const { iptables } = iptablesCommands(this.family);
    await this.exec(p.natNamespace, [iptables, '-t', 'nat', '-F', 'POSTROUTING']);
    const extra = mode === 'masquerade-random-fully' ? ['--random-fully'] : [];
    await this.exec(p.natNamespace, [iptables, '-t', 'nat', '-A', 'POSTROUTING', '-o', p.natOutsideInterface, '-j', 'MASQUERADE', ...extra]);
  }

  /** Installs `layout` for the Service with `endpoints`, replacing the other layout if present. */
  async useLayout(layout: Layout, service: ServiceSpec, endpoints: readonly Endpoint[]): Promise<void> {
    await applyLayout(this, this.plan.nodeNamespace, this.family, layout, service, endpoints);
    this.layout = layout;
    this.endpoints = [...endpoints];
  }

  /** A kube-proxy sync: the rules now route to `endpoints`. Conntrack is not touched. */
  async syncEndpoints(service: ServiceSpec, endpoints: readonly Endpoint[]): Promise<void> {
    if (this.layout === undefined) throw new Error('no layout installed');
    await applyLayout(this, this.plan.nodeNamespace, this.family, this.layout, service, endpoints, this.endpoints);
    this.endpoints = [...endpoints];
  }

  async removeLayouts(): Promise<void> {
    await removeLayouts(this, this.plan.nodeNamespace, this.family);
    this.layout = undefined;
    this.endpoints = [];
  }

  async conntrack(namespace: string, protocol: Protocol = 'udp'): Promise<Flow[]> {
    return parseConntrack(await this.exec(namespace, ['conntrack', '-L', '-f', this.conntrackFamily, '-p', protocol, '-o', 'extended']));
  }

  /** Node side: each client flow to the Service and the pod IP it is DNATed to (TCP: the established connections). */
  async nodeServiceFlows(protocol: Protocol = 'udp'): Promise<ServiceFlow[]> {
    return serviceFlows(await this.conntrack(this.plan.nodeNamespace, protocol), this.plan.serviceIp, this.plan.servicePort, protocol);
  }

  /** NAT side: the public port of each client socket, by the socket's local port. */
  async natPorts(): Promise<Map<number, number>> {
    return natPortsByLocalPort(await this.conntrack(this.plan.natNamespace), this.plan.clientIp, this.plan.serviceIp);
  }

  /**
   * Starts recording `conntrack -E` in `namespace`: every flow created, answered and destroyed,
   * including the short-lived ones a table snapshot cannot show. stop() returns the events, and
   * rejects if the kernel dropped events (ENOBUFS), since the record would then be incomplete.
   */
  async watchConntrack(namespace: string): Promise<{ stop(): Promise<ConntrackEvent[]> }> {
    const child = this.spawnIn(namespace, ['conntrack', '-E', '-f', this.conntrackFamily, '-p', 'udp', '--buffer-size', String(8 * 1024 * 1024)]);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // Nothing tells when conntrack has joined the event groups; it takes a few milliseconds.
    await sleep(150);
    if (child.exitCode !== null) throw new Error(`conntrack -E exited at once: ${stderr.trim()}`);
    return {
      stop: async () => {
        child.kill('SIGTERM');
        await exited;
        if (/ENOBUFS/.test(stderr)) throw new Error(`conntrack -E lost events: ${stderr.trim()}`);
        return parseConntrackEvents(stdout);
      },
    };
  }

  async flushConntrack(namespace: string): Promise<void> {
    // conntrack -F reports on stderr and exits 0 even on an empty table.
    await this.exec(namespace, ['conntrack', '-F', '-f', this.conntrackFamily]);
  }

  /**
   * What kube-proxy does when a UDP endpoint goes away, so that its flows are re-balanced: delete
   * the flows whose original destination is the Service and whose reply comes from the pod (its
   * netlink filter). Not `--dst-nat POD`: conntrack-tools 1.4.7 matches that on IPv4 fields
   * only, and in the IPv6 bed it deleted the flows of the other pods as well. kube-proxy leaves
   * TCP flows alone; deleting them too (`protocol` tcp) is what cuts a pod's connections at once.
   */
  async deleteEndpointFlows(podIp: string, protocol: Protocol = 'udp'): Promise<void> {
    // Exits 1 when nothing matched, which is not an error here.
    await run(
      inNamespace(this.plan.nodeNamespace, ['conntrack', '-D', '-f', this.conntrackFamily, '-p', protocol, '--orig-dst', this.plan.serviceIp, '--reply-src', podIp]),
    );
  }

  /** Drops each forwarded request and each reply with `probability`, counting what it drops. */
  async setLoss(probability: number): Promise<void> {
    await this.clearLoss();
    await this.exec(this.plan.nodeNamespace, ['nft', '-f', '-'], lossTableScript(this.plan, probability));
  }

  async lossCounters(): Promise<LossCounters> {
    return parseLossCounters(await this.exec(this.plan.nodeNamespace, ['nft', '-j', 'list', 'table', 'inet', LOSS_TABLE]));
  }

  async clearLoss(): Promise<void> {
    await run(inNamespace(this.plan.nodeNamespace, ['nft', 'delete', 'table', 'inet', LOSS_TABLE]));
  }

  /**
   * Starts the real `affinity-tester server` in the pod and waits until its UDP and TCP ports are open.
   * `host` :: serves both families from one socket (the dual-stack bed); `extraArgs` are more
   * server flags (`--shutdown-delay 3s`).
   */
  async startServer(pod: PodPlan, host: string = this.family === 6 ? '::' : '0.0.0.0', extraArgs: readonly string[] = []): Promise<ServerProcess> {
    const server = await launchServer(this, pod, this.plan.nodeName, host, this.plan.servicePort, extraArgs);
    this.servers.set(pod.name, server);
    return server;
  }

  /**
   * Stops the pod's server the way the kubelet does (SIGTERM: it drains for its --shutdown-delay,
   * then closes its connections). Resolves when the signal is sent; the result says when it exited.
   */
  terminateServer(pod: PodPlan): Promise<number | null> {
    const server = this.servers.get(pod.name);
    if (server === undefined) return Promise.resolve(null);
    server.child.kill('SIGTERM');
    this.servers.delete(pod.name);
    return server.exited;
  }

  /** Kills the pod's server the way a crash would (SIGKILL: no goodbye, the endpoint stays). */
  async killServer(pod: PodPlan): Promise<void> {
    const server = this.servers.get(pod.name);
    if (server === undefined) return;
    server.child.kill('SIGKILL');
    await server.exited;
    this.servers.delete(pod.name);
  }

  runningServers(): string[] {
    return [...this.servers.keys()];
  }

}

/** Where a server can be started: a process spawner, by namespace. */
type ServerHost = Pick<TestBed, 'spawnIn'>;

/** Starts the real server in `pod`, bound to `bind` (`::` or `0.0.0.0`), and waits until it says its ports are open. */
export async function launchServer(
  host: ServerHost,
  pod: PodPlan,
  nodeName: string,
  bind: string,
  port: number,
  extraArgs: readonly string[] = [],
): Promise<ServerProcess> {
  const child = host.spawnIn(pod.namespace, [
    process.execPath,
    CLI_PATH,
    'server',
    '--pod-name',
    pod.name,
    '--node-name',
    nodeName,
    '--host',
    bind,
    '--port',
    String(port),
    '--http-port',
    '8080',
    ...extraArgs,
  ]);
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString('utf8'));
    if (output.length > 200) output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    };
    // The server logs this line once its UDP, TCP and HTTP ports are all bound (server/command.ts).
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('utf8');
      if (seen.includes('"msg":"server started"')) finish();
    };
    const onExit = (): void => finish(new Error(`server in ${pod.name} exited: ${output.join('').trim().slice(-500)}`));
    const timer = setTimeout(() => finish(new Error(`server in ${pod.name} did not start within 30 s: ${output.join('').trim().slice(-500)}`)), 30_000);
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
  return { pod, child, output, exited };
}

/** Runs commands inside a namespace (a bed's exec). */
type NamespaceExec = Pick<TestBed, 'exec'>;

/**
 * kube-proxy's sync of `layout` in `namespace` to `endpoints`. With the `previous` endpoints of
 * the same layout it rewrites the chains and deletes those of stale endpoints; without, it
 * installs the layout afresh, replacing either layout present. Conntrack is not touched.
 */
export async function applyLayout(
  host: NamespaceExec,
  namespace: string,
  family: Family,
  layout: Layout,
  service: ServiceSpec,
  endpoints: readonly Endpoint[],
  previous?: readonly Endpoint[],
): Promise<void> {
  if (previous === undefined) await removeLayouts(host, namespace, family);
  const stale = (previous ?? []).filter((old) => !endpoints.some((e) => e.ip === old.ip && e.port === old.port));
  const { iptables, restore } = iptablesCommands(family);
  if (layout === 'iptables') {
    await host.exec(namespace, [restore, '--noflush'], iptablesRestoreInput(family, service, endpoints, stale));
    if (previous === undefined) for (const rule of iptablesHookRules()) await host.exec(namespace, [iptables, '-t', 'nat', ...rule]);
  } else {
    await host.exec(namespace, ['nft', '-f', '-'], nftablesTransaction(family, service, endpoints, stale));
  }
}

export async function removeLayouts(host: NamespaceExec, namespace: string, family: Family): Promise<void> {
  for (const argv of iptablesFlushCommands()) await host.exec(namespace, [iptablesCommands(family).iptables, ...argv]);
  await run(inNamespace(namespace, ['nft', ...nftablesDeleteCommand(family)]));
}

/** Names of this run's namespaces that still exist (teardown check). */
export async function leftoverNamespaces(prefix: string): Promise<string[]> {
  const listed = await must(['ip', 'netns', 'list']);
  return listed
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter((name) => name.startsWith(prefix));
}

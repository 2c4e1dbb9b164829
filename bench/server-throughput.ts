// Server throughput benchmark (`npm run bench:server`): how many Binding Requests per second
// affinity-tester's server answers with zero loss on loopback, side by side with a bare
// node:dgram responder that only echoes each datagram, and how it behaves under a flood.
//
// Layout: the server under test runs in its own process pinned to one CPU (taskset); the load
// comes from a small native generator (bench/load-generator.c, built here with cc) pinned to the
// other CPUs, because one Node process can offer only about as many datagrams as one Node
// server answers. Without a C compiler it falls back to several Node generator processes and
// says so. Not a test: figures depend on the machine; run it on a quiet one.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BindingResponseEncoder, encodeBindingRequest } from '../common/stun/codec.js';
import { encodeTransactionId } from '../common/stun/transaction-id.js';
import { parseDuration } from '../common/duration.js';
import { PACKAGE_ROOT, SOFTWARE } from '../common/version.js';
import { DEFAULT_RECV_BUFFER_BYTES, DEFAULT_SEND_BUFFER_BYTES, startStunServer } from '../server/udp-server.js';

const SCRIPT = fileURLToPath(import.meta.url);
const HOST = '127.0.0.1';
/** Names as long as typical Deployment pod names, so replies are their real size. */
const BENCH_IDENTITY = { podName: 'stun-server-7d9f8b6c5-x2x9k', nodeName: 'ip-10-0-12-34.ec2.internal' };

type TargetKind = 'bare' | 'ours';

interface TargetStats {
  rss: number;
  heapUsed: number;
  requests: number;
  replies: number;
}

interface GeneratorResult {
  sent: number;
  received: number;
  stunReplies: number;
  sendErrors: number;
  durationMs: number;
  offeredPerSecond: number;
  repliesPerSecond: number;
}

// ---------------------------------------------------------------------------------------------
// Child roles: the server under test, and the Node fallback generator.

/** The process under test: prints nothing, talks to the parent over IPC. */
async function runTarget(kind: TargetKind): Promise<void> {
  let stats: () => { requests: number; replies: number };
  let port: number;
  let close: () => Promise<void>;
  let bufferSizes: { recv: number; send: number };
  if (kind === 'ours') {
    const server = await startStunServer({ host: HOST, port: 0, ...BENCH_IDENTITY });
    port = server.port;
    bufferSizes = server.bufferSizes;
    stats = () => ({ requests: server.counters.requests, replies: server.counters.replies });
    close = () => server.close();
  } else {
    // The baseline: answer every datagram with itself, nothing else. Same socket buffers as
    // ours, so the comparison is of the code, not of the buffers.
    const socket = createSocket('udp4');
    let requests = 0;
    socket.on('message', (datagram, rinfo) => {
      requests++;
      socket.send(datagram, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, HOST, resolve));
    socket.setRecvBufferSize(DEFAULT_RECV_BUFFER_BYTES);
    socket.setSendBufferSize(DEFAULT_SEND_BUFFER_BYTES);
    port = socket.address().port;
    bufferSizes = { recv: socket.getRecvBufferSize(), send: socket.getSendBufferSize() };
    stats = () => ({ requests, replies: requests });
    close = () => new Promise((resolve) => socket.close(() => resolve()));
  }
  process.on('message', (message: string) => {
    if (message === 'stats') {
      const memory = process.memoryUsage();
      process.send!({ type: 'stats', rss: memory.rss, heapUsed: memory.heapUsed, ...stats() });
    } else if (message === 'exit') {
      void close().then(() => process.exit(0));
    }
  });
  process.send!({ type: 'ready', port, bufferSizes });
}

/** Fallback generator in Node: paced sends from many sockets, counts replies, prints JSON. */
async function runNodeGenerator(port: number, rate: number, durationMs: number, socketCount: number, size: number, fresh: boolean): Promise<void> {
  const sockets = await Promise.all(
    Array.from({ length: socketCount }, async () => {
      const socket = createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, HOST, resolve));
      socket.setRecvBufferSize(4 << 20);
      return socket;
    }),
  );
  let sent = 0;
  let received = 0;
  let stunReplies = 0;
  for (const socket of sockets) {
    socket.on('message', (reply) => {
      received++;
      if (reply.length >= 20 && reply.readUInt16BE(0) === 0x0101) stunReplies++;
    });
  }
  const run = Math.floor(Math.random() * 0xffffff) * 0x1000000;
  const sequences = new Array<number>(socketCount).fill(0);
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const elapsed = performance.now() - start;
      if (elapsed >= durationMs) return resolve();
      const due = rate > 0 ? (rate * elapsed) / 1000 : sent + 64;
      for (let burst = 0; sent < due && burst < 256; burst++, sent++) {
        const index = sent % socketCount;
        const session = fresh ? run + (sent % 0xffffff) : run + index;
        sockets[index]!.send(encodeBindingRequest({ transactionId: encodeTransactionId(session, sequences[index]++), size }), port, HOST);
      }
      setImmediate(tick);
    };
    tick();
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (const socket of sockets) socket.close();
  const seconds = durationMs / 1000;
  const result: GeneratorResult = { sent, received, stunReplies, sendErrors: 0, durationMs, offeredPerSecond: sent / seconds, repliesPerSecond: received / seconds };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// ---------------------------------------------------------------------------------------------
// The orchestrator.

interface Options {
  stepMs: number;
  floodMs: number;
  floodMultiplier: number;
  sockets: number;
  requestSize: number | undefined;
  pin: boolean;
  native: boolean;
}

interface Cpus {
  server: string | undefined;
  load: string | undefined;
  loadCount: number;
}

function planCpus(pin: boolean): Cpus {
  const count = cpus().length;
  const taskset = pin && count >= 2 && hasTaskset();
  if (!taskset) return { server: undefined, load: undefined, loadCount: Math.max(1, count - 1) };
  return { server: '0', load: count === 2 ? '1' : `1-${count - 1}`, loadCount: count - 1 };
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs `command` pinned to `cpuList` (when given). */
function spawnPinned(cpuList: string | undefined, command: string, args: string[], stdio: ('ignore' | 'pipe' | 'inherit' | 'ipc')[]): ChildProcess {
  return cpuList === undefined ? spawn(command, args, { stdio }) : spawn('taskset', ['-c', cpuList, command, ...args], { stdio });
}

/** Builds the native generator once per source version; undefined without a C compiler. */
function buildNativeGenerator(): string | undefined {
  const source = join(PACKAGE_ROOT, 'bench', 'load-generator.c');
  if (!existsSync(source)) return undefined;
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), 'affinity-tester-bench');
  const binary = join(dir, `load-generator-${hash}`);
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  for (const compiler of [process.env.CC, 'cc', 'gcc', 'clang'].filter((c): c is string => !!c)) {
    try {
      execFileSync(compiler, ['-O2', '-o', binary, source], { stdio: 'ignore' });
      return binary;
    } catch {
      // try the next compiler
    }
  }
  return undefined;
}

class Target {
  private constructor(
    readonly kind: TargetKind,
    private readonly child: ChildProcess,
    readonly port: number,
    readonly bufferSizes: { recv: number; send: number },
  ) {}

  static async start(kind: TargetKind, cpu: string | undefined): Promise<Target> {
    const child = spawnPinned(cpu, process.execPath, [SCRIPT, '--role', 'target', '--kind', kind], ['ignore', 'inherit', 'inherit', 'ipc']);
    const ready = await new Promise<{ port: number; bufferSizes: { recv: number; send: number } }>((resolve, reject) => {
      child.once('message', (message: { type: string; port: number; bufferSizes: { recv: number; send: number } }) => resolve(message));
      child.once('exit', (code) => reject(new Error(`${kind} target exited with ${code}`)));
    });
    return new Target(kind, child, ready.port, ready.bufferSizes);
  }

  stats(): Promise<TargetStats> {
    return new Promise((resolve) => {
      this.child.once('message', (message: TargetStats) => resolve(message));
      this.child.send('stats');
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send('exit');
    await exited;
  }
}

class Load {
  constructor(
    private readonly native: string | undefined,
    private readonly cpus: Cpus,
    private readonly options: Options,
  ) {}

  get description(): string {
    return this.native
      ? `native generator (bench/load-generator.c), ${this.processes} process(es) on CPU ${this.cpus.load ?? 'any'}, ${this.options.sockets} sockets`
      : `Node generator, ${this.processes} process(es) on CPU ${this.cpus.load ?? 'any'} (no C compiler: the generator may be the limit)`;
  }

  get processes(): number {
    return this.native ? this.cpus.loadCount : Math.max(2, this.cpus.loadCount * 2);
  }

  /** Offers `rate` datagrams/s (0 = as fast as possible) for `durationMs`, summed over processes. */
  async run(port: number, rate: number, durationMs: number, size: number, fresh = false): Promise<GeneratorResult> {
    const processes = this.processes;
    const perProcessRate = rate / processes;
    const sockets = Math.max(1, Math.floor(this.options.sockets / processes));
    const runs = Array.from({ length: processes }, (_, index) => {
      const args = this.native
        ? [HOST, String(port), String(perProcessRate), String(durationMs), String(sockets), String(size), fresh ? '1' : '0', String(index * 7919 + Date.now())]
        : [SCRIPT, '--role', 'generator', '--port', String(port), '--rate', String(perProcessRate), '--duration-ms', String(durationMs), '--sockets', String(sockets), '--size', String(size), ...(fresh ? ['--fresh'] : [])];
      const child = spawnPinned(this.cpus.load, this.native ?? process.execPath, args, ['ignore', 'pipe', 'inherit']);
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      return new Promise<GeneratorResult>((resolve, reject) =>
        child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as GeneratorResult) : reject(new Error(`generator exited with ${code}`)))),
      );
    });
    const results = await Promise.all(runs);
    const sum = (key: keyof GeneratorResult): number => results.reduce((total, r) => total + r[key], 0);
    return {
      sent: sum('sent'),
      received: sum('received'),
      stunReplies: sum('stunReplies'),
      sendErrors: sum('sendErrors'),
      durationMs,
      offeredPerSecond: sum('offeredPerSecond'),
      repliesPerSecond: sum('repliesPerSecond'),
    };
  }
}

interface Capacity {
  zeroLossPerSecond: number;
  saturatedPerSecond: number;
  saturatedOfferedPerSecond: number;
  generatorLimited: boolean;
}

const settle = (ms = 250): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const SATURATION_PROBES = 2;

/**
 * The search for one target's highest zero-loss rate: saturation probes (offer all the generator
 * can; the replies that come back are the ceiling), then halving down from 60% of the ceiling
 * until a step is lossless, then bisection to within 3%.
 */
class CapacitySearch {
  private saturated: GeneratorResult[] = [];
  private lo = 0;
  private hi = 0;
  private descending = 0;
  private bisecting = 0;
  private best = 0;
  generatorLimited = false;

  constructor(readonly target: Target) {}

  /** The next rate to offer (0 = as fast as possible), or undefined when done. */
  nextRate(): number | undefined {
    if (this.saturated.length < SATURATION_PROBES) return 0;
    const ceiling = Math.max(1000, ...this.saturated.map((r) => r.repliesPerSecond));
    if (this.hi === 0) this.hi = ceiling * 1.05;
    if (this.lo === 0) return this.descending < 5 ? ceiling * 0.6 * 0.5 ** this.descending : undefined;
    if (this.bisecting >= 6 || (this.hi - this.lo) / this.lo <= 0.03) return undefined;
    return (this.lo + this.hi) / 2;
  }

  record(rate: number, result: GeneratorResult): void {
    if (rate === 0) {
      this.saturated.push(result);
      return;
    }
    if (result.offeredPerSecond < rate * 0.97) this.generatorLimited = true;
    const lossless = result.sent > 0 && result.received === result.sent;
    if (lossless) this.best = Math.max(this.best, result.repliesPerSecond);
    if (this.lo === 0) {
      this.descending++;
      if (lossless) this.lo = rate;
      else this.hi = rate;
    } else {
      this.bisecting++;
      if (lossless) this.lo = rate;
      else this.hi = rate;
    }
  }

  result(): Capacity {
    const top = this.saturated.reduce((a, b) => (b.repliesPerSecond > a.repliesPerSecond ? b : a));
    return { zeroLossPerSecond: this.best, saturatedPerSecond: top.repliesPerSecond, saturatedOfferedPerSecond: top.offeredPerSecond, generatorLimited: this.generatorLimited };
  }
}

/** One step: offer `rate` to `target` for a step's duration and report it. */
async function step(target: Target, load: Load, rate: number, options: Options, size: number): Promise<GeneratorResult> {
  const before = await target.stats();
  const result = await load.run(target.port, rate, options.stepMs, size);
  const after = await target.stats();
  const lossPercent = result.sent > 0 ? (100 * (result.sent - result.received)) / result.sent : 0;
  const label = target.kind === 'bare' ? 'bare  ' : 'server';
  process.stdout.write(
    `  ${label} ${rate === 0 ? 'flat out' : `asked ${fmt(rate)}/s`}: offered ${fmt(result.offeredPerSecond)}/s, replies ${fmt(result.repliesPerSecond)}/s, ` +
      `loss ${lossPercent.toFixed(3)}% (server took in ${fmt(after.requests - before.requests)} of ${fmt(result.sent)})\n`,
  );
  await settle();
  return result;
}

/**
 * A step that tolerates a busy machine: a step where the generator could not offer what was
 * asked (its CPU was taken) is run again, and so is a lossy step, once, since one stall of the
 * server's CPU by something else loses datagrams too. The same rule applies to every target.
 */
async function steadyStep(target: Target, load: Load, rate: number, options: Options, size: number): Promise<GeneratorResult> {
  let result = await step(target, load, rate, options, size);
  if (rate === 0) return result;
  for (let retry = 0; retry < 2 && result.offeredPerSecond < rate * 0.97; retry++) {
    process.stdout.write('    (the generator fell short of the rate: again)\n');
    result = await step(target, load, rate, options, size);
  }
  if (result.received !== result.sent) {
    process.stdout.write('    (loss: confirming)\n');
    result = await step(target, load, rate, options, size);
  }
  return result;
}

/** Runs the searches of all targets interleaved, step by step, so both see the same machine. */
async function measureCapacities(targets: Target[], load: Load, options: Options, size: number): Promise<Map<TargetKind, Capacity>> {
  const searches = targets.map((target) => new CapacitySearch(target));
  for (;;) {
    let stepped = false;
    for (const search of searches) {
      const rate = search.nextRate();
      if (rate === undefined) continue;
      search.record(rate, await steadyStep(search.target, load, rate, options, size));
      stepped = true;
    }
    if (!stepped) break;
  }
  return new Map(searches.map((search) => [search.target.kind, search.result()]));
}

/** Floods `target` at `rate` with a fresh session id per request; samples its memory. */
async function flood(target: Target, load: Load, rate: number, options: Options, size: number) {
  const before = await target.stats();
  const samples: number[] = [before.rss];
  const sampler = setInterval(() => void target.stats().then((s) => samples.push(s.rss)), 500);
  const result = await load.run(target.port, rate, options.floodMs, size, true);
  clearInterval(sampler);
  await settle(500);
  const after = await target.stats();
  samples.push(after.rss);
  return { before, after, samples, maxRss: Math.max(...samples), result, serverReceived: after.requests - before.requests };
}

function everyNth<T>(items: T[], n: number): T[] {
  return items.filter((_, index) => index % n === 0 || index === items.length - 1);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function main(options: Options): Promise<void> {
  const cpuPlan = planCpus(options.pin);
  const native = options.native ? buildNativeGenerator() : undefined;
  const load = new Load(native, cpuPlan, options);
  const size = options.requestSize ?? 0;

  process.stdout.write(
    `affinity-tester server benchmark (loopback ${HOST}, Node ${process.version}, ${cpus().length} CPUs)\n` +
      `  server process on CPU ${cpuPlan.server ?? 'any (taskset unavailable or --no-pin)'}; load: ${load.description}\n` +
      `  each step ${options.stepMs} ms; zero loss = every request answered\n\n`,
  );

  const requestSize = size !== 0 ? size : new BindingResponseEncoder({ software: SOFTWARE, ...BENCH_IDENTITY }).fullReplySize();
  const bareTarget = await Target.start('bare', cpuPlan.server);
  const ours = await Target.start('ours', cpuPlan.server);
  process.stdout.write(
    `requests of ${requestSize} bytes (what our client sends to get every attribute back)\n` +
      `bare node:dgram echo responder: socket buffers receive ${mib(bareTarget.bufferSizes.recv)}, send ${mib(bareTarget.bufferSizes.send)}\n` +
      `affinity-tester server:         socket buffers receive ${mib(ours.bufferSizes.recv)}, send ${mib(ours.bufferSizes.send)}\n` +
      `steps alternate between the two so that both see the same machine:\n`,
  );
  const results = await measureCapacities([bareTarget, ours], load, options, requestSize);
  await bareTarget.stop();

  const bare = results.get('bare')!;
  const mine = results.get('ours')!;
  const ratio = bare.zeroLossPerSecond > 0 ? mine.zeroLossPerSecond / bare.zeroLossPerSecond : 0;
  const saturatedRatio = bare.saturatedPerSecond > 0 ? mine.saturatedPerSecond / bare.saturatedPerSecond : 0;
  process.stdout.write(
    `\n${''.padEnd(34)}${'replies/s, zero loss'.padStart(22)}${'replies/s, saturated'.padStart(22)}${'offered/s then'.padStart(18)}\n` +
      `${'bare node:dgram responder'.padEnd(34)}${fmt(bare.zeroLossPerSecond).padStart(22)}${fmt(bare.saturatedPerSecond).padStart(22)}${fmt(bare.saturatedOfferedPerSecond).padStart(18)}\n` +
      `${'affinity-tester server'.padEnd(34)}${fmt(mine.zeroLossPerSecond).padStart(22)}${fmt(mine.saturatedPerSecond).padStart(22)}${fmt(mine.saturatedOfferedPerSecond).padStart(18)}\n` +
      `${'ratio (server / bare)'.padEnd(34)}${ratio.toFixed(2).padStart(22)}${saturatedRatio.toFixed(2).padStart(22)}\n` +
      `target: zero-loss ratio >= 0.85 -> ${ratio >= 0.85 ? 'met' : 'NOT met'}\n`,
  );
  if (bare.generatorLimited || mine.generatorLimited) {
    process.stdout.write('warning: the generator could not always offer the rate asked for; figures may be generator-limited\n');
  }

  // Flood: several times capacity, a fresh session id per request (worst case for the table).
  const floodRate = Math.max(mine.saturatedPerSecond, mine.zeroLossPerSecond) * options.floodMultiplier;
  process.stdout.write(`\nflood: ${options.floodMultiplier}x capacity (${fmt(floodRate)}/s asked) for ${options.floodMs} ms, a fresh session id per request\n`);
  const flooded = await flood(ours, load, floodRate, options, requestSize);
  process.stdout.write(
    `  generator offered ${fmt(flooded.result.offeredPerSecond)}/s, server answered ${fmt(flooded.result.repliesPerSecond)}/s ` +
      `(${((100 * flooded.result.repliesPerSecond) / Math.max(1, mine.saturatedPerSecond)).toFixed(0)}% of its saturated rate)\n` +
      `  server took in ${fmt(flooded.serverReceived)} datagrams (${fmt(flooded.result.sent - flooded.serverReceived)} dropped by the kernel, receive buffer full)\n` +
      `  server RSS before ${mib(flooded.before.rss)}, max during ${mib(flooded.maxRss)}, after ${mib(flooded.after.rss)}\n` +
      `  RSS samples (MiB): ${everyNth(flooded.samples, Math.ceil(flooded.samples.length / 24)).map((b) => (b / 1048576).toFixed(0)).join(' ')}\n`,
  );
  const beforeRecovery = await ours.stats();
  const recovery = await load.run(ours.port, mine.zeroLossPerSecond * 0.8, options.stepMs, requestSize);
  const afterRecovery = await ours.stats();
  process.stdout.write(
    `  after the flood, at 80% of capacity: offered ${fmt(recovery.offeredPerSecond)}/s, replies ${fmt(recovery.repliesPerSecond)}/s, ` +
      `loss ${((100 * (recovery.sent - recovery.received)) / Math.max(1, recovery.sent)).toFixed(3)}% ` +
      `(server saw ${fmt(afterRecovery.requests - beforeRecovery.requests)} of ${fmt(recovery.sent)})\n`,
  );
  await ours.stop();
}

// ---------------------------------------------------------------------------------------------

const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    kind: { type: 'string' },
    port: { type: 'string' },
    rate: { type: 'string' },
    'duration-ms': { type: 'string' },
    size: { type: 'string' },
    fresh: { type: 'boolean', default: false },
    step: { type: 'string', default: '3s' },
    flood: { type: 'string', default: '10s' },
    'flood-multiplier': { type: 'string', default: '4' },
    sockets: { type: 'string', default: '64' },
    'request-size': { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    'node-generator': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

function fail(message: string): never {
  process.stderr.write(`server-throughput: ${message}\n`);
  process.exit(2);
}

if (values.role === 'target') {
  await runTarget(values.kind === 'bare' ? 'bare' : 'ours');
} else if (values.role === 'generator') {
  await runNodeGenerator(Number(values.port), Number(values.rate), Number(values['duration-ms']), Number(values.sockets), Number(values.size), values.fresh);
} else if (values.help) {
  process.stdout.write(
    'usage: npm run bench:server -- [--step 3s] [--flood 10s] [--flood-multiplier 4] [--sockets 64] [--request-size N] [--no-pin] [--node-generator]\n' +
      '  --step              how long each offered rate is held while searching for the zero-loss rate\n' +
      '  --flood             how long the flood phase lasts\n' +
      '  --flood-multiplier  flood rate as a multiple of the measured capacity\n' +
      '  --sockets           client sockets the load comes from (spread over generator processes)\n' +
      '  --request-size      request size in bytes (default: big enough for a reply with every attribute)\n' +
      '  --no-pin            do not pin server and load to separate CPUs with taskset\n' +
      '  --node-generator    use Node generator processes instead of the native one\n',
  );
} else {
  const stepMs = parseDuration(values.step!) ?? fail(`--step: expected a duration, got ${values.step}`);
  const floodMs = parseDuration(values.flood!) ?? fail(`--flood: expected a duration, got ${values.flood}`);
  const floodMultiplier = Number(values['flood-multiplier']);
  const sockets = Number(values.sockets);
  const requestSize = values['request-size'] === undefined ? undefined : Number(values['request-size']);
  if (!(floodMultiplier >= 1)) fail('--flood-multiplier: expected a number >= 1');
  if (!Number.isInteger(sockets) || sockets < 1 || sockets > 1024) fail('--sockets: expected 1 to 1024');
  if (requestSize !== undefined && (!Number.isInteger(requestSize) || requestSize < 28 || requestSize > 1200 || requestSize % 4 !== 0)) {
    fail('--request-size: expected a multiple of 4 from 28 to 1200');
  }
  await main({ stepMs, floodMs, floodMultiplier, sockets, requestSize, pin: !values['no-pin'], native: !values['node-generator'] });
}

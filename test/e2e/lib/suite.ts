// Builds one bed per IP family and rule layout, starts the real servers, and runs every scenario
// that applies to them, resetting the bed in between; and one several-nodes bed per layout for
// the node scenarios (IPv4). The beds are separate namespaces and run at the same time: a scenario
// mostly waits for the client's run (a few seconds of real time), so six beds take little longer
// than one. Shared by the tap test and `npm run e2e`.
import { join } from 'node:path';
import { planBed, runPrefix } from './bed-plan.js';
import { BedCluster } from './cluster-api.js';
import { runDualStack } from './dual-stack.js';
import { NodesBed } from './nodes-bed.js';
import { planNodesBed } from './nodes-plan.js';
import { NODES, NODES_SCENARIOS, runNodesScenario, type NodesScenario } from './nodes-scenarios.js';
import { endpointOf, resetBed, SCENARIOS, serviceFor, type ClassCounts, type Scenario, type ScenarioContext, type ScenarioOutcome } from './scenarios.js';
import type { Family } from './service.js';
import type { TableRow } from './table.js';
import { TCP_SCENARIOS } from './tcp-scenarios.js';
import { TestBed, type Layout } from './test-bed.js';
import { VERDICT_SCENARIOS } from './verdict-scenarios.js';

/** Three endpoints, plus one pod that runs but only becomes an endpoint on scale-up. */
const PODS = 4;
const ENDPOINTS = 3;
/**
 * Every one-node scenario: the kernel's (1-8) then the verdict's (14-19) on the shared bed, the
 * TCP ones (20-23) on beds of their own.
 */
const ALL_SCENARIOS: readonly Scenario[] = [...SCENARIOS, ...VERDICT_SCENARIOS, ...TCP_SCENARIOS];

/** The one-node beds (scenarios 1-8, 14-19 and 20-23) or the several-nodes bed behind a load balancer (9-12). */
export type BedKind = 'single' | 'nodes';

/** Some scenarios of a group only: these ids, layouts and families (each: all when absent). */
export interface Narrowing {
  only?: readonly number[];
  layouts?: readonly Layout[];
  families?: readonly Family[];
}

export interface SuiteOptions {
  /** Only these scenario ids (all when empty). */
  only?: readonly number[];
  /** Only these beds (both when absent). */
  beds?: readonly BedKind[];
  /** Narrows the node scenarios further: these ids, these layouts (the tap suite runs the cheapest one). */
  nodes?: { only?: readonly number[]; layouts?: readonly Layout[] };
  /** Narrows the verdict's scenarios (14-19) further, the same way (the tap suite runs a subset). */
  verdict?: Narrowing;
  /** Narrows the TCP scenarios (20-23) further (the tap suite runs a cheap subset). */
  tcp?: Narrowing;
  layouts?: readonly Layout[];
  families?: readonly Family[];
  /** Called as each scenario ends (the by-hand runner prints the client's output here). */
  onOutcome?: (outcome: ScenarioOutcome) => void;
  prefix?: string;
  /** A directory to keep each scenario's client report and events in. */
  keepReports?: string;
}

export interface PlannedRun {
  scenario: Scenario;
  layout: Layout;
  family: Family;
}

export function plannedRuns(options: SuiteOptions = {}): PlannedRun[] {
  const layouts = options.layouts ?? ['iptables', 'nftables'];
  const families = options.families ?? [4, 6];
  const runs: PlannedRun[] = [];
  if (!(options.beds ?? ['single']).includes('single')) return runs;
  for (const family of families) {
    for (const layout of layouts) {
      for (const scenario of ALL_SCENARIOS) {
        if (!wanted(scenario.id, options.only)) continue;
        if (VERDICT_SCENARIOS.includes(scenario) && !narrowedTo(options.verdict, scenario.id, layout, family)) continue;
        if (TCP_SCENARIOS.includes(scenario) && !narrowedTo(options.tcp, scenario.id, layout, family)) continue;
        if (scenario.layouts.includes(layout) && scenario.families.includes(family)) runs.push({ scenario, layout, family });
      }
    }
  }
  return runs;
}

/** Whether `id` is among `only` (all are when it is absent or empty). */
function wanted(id: number, only?: readonly number[]): boolean {
  return only === undefined || only.length === 0 || only.includes(id);
}

/** Whether a run is within a narrowing (every run is when it is absent). */
function narrowedTo(narrow: Narrowing | undefined, id: number, layout: Layout, family: Family): boolean {
  if (narrow === undefined) return true;
  return wanted(id, narrow.only) && (narrow.layouts ?? [layout]).includes(layout) && (narrow.families ?? [family]).includes(family);
}

/** The dual-stack scenario's number: after the single-family ones. */
export const DUAL_STACK_ID = 13;

/** Whether the dual-stack scenario runs: it needs both families and the iptables layout. */
export function dualStackPlanned(options: SuiteOptions = {}): boolean {
  const families = options.families ?? [4, 6];
  const layouts = options.layouts ?? ['iptables', 'nftables'];
  const only = options.only ?? [];
  if (!(options.beds ?? ['single']).includes('single')) return false;
  return families.includes(4) && families.includes(6) && layouts.includes('iptables') && (only.length === 0 || only.includes(DUAL_STACK_ID));
}

/** The dual-stack scenario on a bed of its own, `<prefix>ds-`. */
async function runDualStackBed(options: SuiteOptions): Promise<ScenarioOutcome[]> {
  const result = await runDualStack(`${options.prefix ?? runPrefix(process.pid)}ds-`);
  const outcome: ScenarioOutcome = { id: DUAL_STACK_ID, layout: 'iptables', family: 'dual', ...result, pass: result.checks.every((c) => c.pass) };
  options.onOutcome?.(outcome);
  return [outcome];
}

export interface PlannedNodesRun {
  scenario: NodesScenario;
  layout: Layout;
}

/** The node scenarios to run: IPv4 only, in each layout asked for. */
export function plannedNodesRuns(options: SuiteOptions = {}): PlannedNodesRun[] {
  if (!(options.beds ?? ['nodes']).includes('nodes') || !(options.families ?? [4]).includes(4)) return [];
  const runs: PlannedNodesRun[] = [];
  for (const layout of options.nodes?.layouts ?? options.layouts ?? ['iptables', 'nftables']) {
    for (const scenario of NODES_SCENARIOS) {
      if (wanted(scenario.id, options.only) && wanted(scenario.id, options.nodes?.only)) runs.push({ scenario, layout });
    }
  }
  return runs;
}

/** Every planned run, all beds at the same time; outcomes in plan order (IPv4 first, then the node scenarios, dual stack last). */
export async function runSuite(options: SuiteOptions = {}): Promise<ScenarioOutcome[]> {
  const runs = plannedRuns(options);
  const beds = new Map<string, PlannedRun[]>();
  for (const run of runs) {
    const key = `${run.family}${run.layout[0]}${run.scenario.pods === undefined ? '' : 't'}`;
    beds.set(key, [...(beds.get(key) ?? []), run]);
  }
  const ownBed = ([, bedRuns]: [string, PlannedRun[]]) => bedRuns[0]!.scenario.pods !== undefined;
  const nodesBeds = new Map<Layout, NodesScenario[]>();
  for (const { scenario, layout } of plannedNodesRuns(options)) nodesBeds.set(layout, [...(nodesBeds.get(layout) ?? []), scenario]);
  // The node beds start once the one-node beds' servers are up (or those beds gave up): twenty
  // Node processes starting at once on a loaded 2-core machine overran the 15 s a server has to
  // open its port, and the node beds, with fewer runs, still finish first.
  // So do the TCP scenarios' beds.
  const serversUp: Promise<void>[] = [];
  const singleBeds = [...beds].filter((bed) => !ownBed(bed)).map(([key, bedRuns]) => {
    let up = (): void => undefined;
    serversUp.push(new Promise<void>((resolve) => (up = resolve)));
    return runBed(key, bedRuns, options, up);
  });
  const tcpBeds = [...beds].filter(ownBed).map(async ([key, bedRuns]) => {
    await Promise.all(serversUp);
    return runBed(key, bedRuns, options, () => undefined);
  });
  const nodeBeds = [...nodesBeds].map(async ([layout, scenarios]) => {
    await Promise.all(serversUp);
    return runNodesBed(layout, scenarios, options);
  });
  // Settled, not Promise.all: a failing bed must not leave the others running unawaited.
  const results = await Promise.allSettled([...singleBeds, ...tcpBeds, ...nodeBeds, ...(dualStackPlanned(options) ? [runDualStackBed(options)] : [])]);
  const failure = results.find((r) => r.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  return results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
}

/** Runs `runs`, all of one family and layout, on a bed of their own named `<prefix><key>-`. */
async function runBed(key: string, runs: readonly PlannedRun[], options: SuiteOptions, serversUp: () => void): Promise<ScenarioOutcome[]> {
  const family = runs[0]!.family;
  const pods = Math.max(PODS, ...runs.map((r) => r.scenario.pods ?? PODS));
  const plan = planBed(`${options.prefix ?? runPrefix(process.pid)}${key}-`, pods, family);
  const bed = await TestBed.create(plan).catch((error: unknown) => {
    serversUp();
    throw error;
  });
  const outcomes: ScenarioOutcome[] = [];
  let cluster: BedCluster | undefined;
  try {
    await Promise.all(plan.pods.map((pod) => bed.startServer(pod))).finally(serversUp);
    const baseEndpoints = plan.pods.slice(0, ENDPOINTS).map((pod) => endpointOf(plan, pod));
    for (const { scenario, layout } of runs) {
      // Started for the first scenario that needs it (they run last), kept for the rest.
      if (scenario.usesApi && cluster === undefined) cluster = await BedCluster.start(bed, serviceFor(plan));
      const context: ScenarioContext = { bed, layout, service: serviceFor(plan), baseEndpoints, ...(cluster ? { cluster } : {}) };
      if (options.keepReports !== undefined) context.keepAs = join(options.keepReports, `scenario-${scenario.id}-${layout}-ipv${family}`);
      await resetBed(context);
      const result = await scenario.run(context);
      const outcome: ScenarioOutcome = { id: scenario.id, title: scenario.title, layout, family, ...result, pass: result.checks.every((c) => c.pass) };
      outcomes.push(outcome);
      options.onOutcome?.(outcome);
    }
  } finally {
    await cluster?.close();
    await bed.destroy();
  }
  return outcomes;
}

/** Runs the node scenarios of one layout on a several-nodes bed of their own, named `<prefix>n<layout initial>-`. */
async function runNodesBed(layout: Layout, scenarios: readonly NodesScenario[], options: SuiteOptions): Promise<ScenarioOutcome[]> {
  const bed = await NodesBed.create(planNodesBed(`${options.prefix ?? runPrefix(process.pid)}n${layout[0]}-`, NODES));
  const outcomes: ScenarioOutcome[] = [];
  try {
    for (const scenario of scenarios) {
      const keepAs = options.keepReports === undefined ? undefined : join(options.keepReports, `scenario-${scenario.id}-${layout}-ipv4`);
      const outcome = await runNodesScenario(bed, layout, scenario, keepAs);
      outcomes.push(outcome);
      options.onOutcome?.(outcome);
    }
  } finally {
    await bed.destroy();
  }
  return outcomes;
}

export function tableRows(outcomes: readonly ScenarioOutcome[]): TableRow[] {
  return outcomes.map((o) => ({
    scenario: `${o.id}. ${o.title}`,
    family: o.family === 'dual' ? 'IPv4+IPv6' : `IPv${o.family}`,
    layout: o.layout,
    expected: o.expected,
    reported: o.reported,
    ...(o.classes === undefined ? {} : classCells(o.classes)),
    result: o.pass ? 'pass' : 'FAIL',
  }));
}

/** `kernel / client` per class, for the table's class columns. */
function classCells(classes: NonNullable<ScenarioOutcome['classes']>): Pick<TableRow, 'expectedMoves' | 'violations' | 'stuck'> {
  const cell = (key: keyof ClassCounts) => `${classes.kernel[key]} / ${classes.client[key]}`;
  return { expectedMoves: cell('expected'), violations: cell('violations'), stuck: cell('stuck') };
}

// Builds one bed per IP family and rule layout, starts the real servers, and runs every scenario
// that applies to them, resetting the bed in between. The beds are separate namespaces and run at
// the same time: a scenario mostly waits for the client's run (a few seconds of real time), so
// four beds take little longer than one. Shared by the tap test and `npm run e2e`.
import { join } from 'node:path';
import { planBed, runPrefix } from './bed-plan.js';
import { runDualStack } from './dual-stack.js';
import { endpointOf, resetBed, SCENARIOS, serviceFor, type Scenario, type ScenarioContext, type ScenarioOutcome } from './scenarios.js';
import type { Family } from './service.js';
import type { TableRow } from './table.js';
import { TestBed, type Layout } from './test-bed.js';

/** Three endpoints, plus one pod that runs but only becomes an endpoint on scale-up. */
const PODS = 4;

export interface SuiteOptions {
  /** Only these scenario ids (all when empty). */
  only?: readonly number[];
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
  for (const family of families) {
    for (const layout of layouts) {
      for (const scenario of SCENARIOS) {
        if (options.only && options.only.length > 0 && !options.only.includes(scenario.id)) continue;
        if (scenario.layouts.includes(layout) && scenario.families.includes(family)) runs.push({ scenario, layout, family });
      }
    }
  }
  return runs;
}

/** The dual-stack scenario's number: after the single-family ones. */
export const DUAL_STACK_ID = 9;

/** Whether the dual-stack scenario runs: it needs both families and the iptables layout. */
export function dualStackPlanned(options: SuiteOptions = {}): boolean {
  const families = options.families ?? [4, 6];
  const layouts = options.layouts ?? ['iptables', 'nftables'];
  const only = options.only ?? [];
  return families.includes(4) && families.includes(6) && layouts.includes('iptables') && (only.length === 0 || only.includes(DUAL_STACK_ID));
}

/** The dual-stack scenario on a bed of its own, `<prefix>ds-`. */
async function runDualStackBed(options: SuiteOptions): Promise<ScenarioOutcome[]> {
  const result = await runDualStack(`${options.prefix ?? runPrefix(process.pid)}ds-`);
  const outcome: ScenarioOutcome = { id: DUAL_STACK_ID, layout: 'iptables', family: 'dual', ...result, pass: result.checks.every((c) => c.pass) };
  options.onOutcome?.(outcome);
  return [outcome];
}

/** Every planned run, all beds at the same time; outcomes in plan order (IPv4 first, dual stack last). */
export async function runSuite(options: SuiteOptions = {}): Promise<ScenarioOutcome[]> {
  const runs = plannedRuns(options);
  const beds = new Map<string, PlannedRun[]>();
  for (const run of runs) {
    const key = `${run.family}${run.layout[0]}`;
    beds.set(key, [...(beds.get(key) ?? []), run]);
  }
  // Settled, not Promise.all: a failing bed must not leave the others running unawaited.
  const results = await Promise.allSettled([
    ...[...beds].map(([key, bedRuns]) => runBed(key, bedRuns, options)),
    ...(dualStackPlanned(options) ? [runDualStackBed(options)] : []),
  ]);
  const failure = results.find((r) => r.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  return results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
}

/** Runs `runs`, all of one family and layout, on a bed of their own named `<prefix><key>-`. */
async function runBed(key: string, runs: readonly PlannedRun[], options: SuiteOptions): Promise<ScenarioOutcome[]> {
  const family = runs[0]!.family;
  const plan = planBed(`${options.prefix ?? runPrefix(process.pid)}${key}-`, PODS, family);
  const bed = await TestBed.create(plan);
  const outcomes: ScenarioOutcome[] = [];
  try {
    await Promise.all(plan.pods.map((pod) => bed.startServer(pod)));
    const baseEndpoints = plan.pods.slice(0, PODS - 1).map((pod) => endpointOf(plan, pod));
    for (const { scenario, layout } of runs) {
      const context: ScenarioContext = { bed, layout, service: serviceFor(plan), baseEndpoints };
      if (options.keepReports !== undefined) context.keepAs = join(options.keepReports, `scenario-${scenario.id}-${layout}-ipv${family}`);
      await resetBed(context);
      const result = await scenario.run(context);
      const outcome: ScenarioOutcome = { id: scenario.id, title: scenario.title, layout, family, ...result, pass: result.checks.every((c) => c.pass) };
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
    result: o.pass ? 'pass' : 'FAIL',
  }));
}

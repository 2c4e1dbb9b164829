// Builds one bed per IP family, starts the real servers, and runs every scenario in every layout
// and family it applies to, resetting the bed in between. The families' beds are separate
// namespaces and run at the same time: each scenario mostly waits for the client's run, so two
// beds take about as long as one. Shared by the tap test and `npm run e2e`.
import { join } from 'node:path';
import { planBed, runPrefix } from './bed-plan.js';
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

/** Every planned run, the families' beds at the same time; outcomes in plan order (IPv4 first). */
export async function runSuite(options: SuiteOptions = {}): Promise<ScenarioOutcome[]> {
  const runs = plannedRuns(options);
  const families = [...new Set(runs.map((r) => r.family))];
  // Settled, not Promise.all: a failing bed must not leave the other one running unawaited.
  const results = await Promise.allSettled(families.map((family) => runBed(family, runs.filter((r) => r.family === family), options)));
  const failure = results.find((r) => r.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  return results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
}

async function runBed(family: Family, runs: readonly PlannedRun[], options: SuiteOptions): Promise<ScenarioOutcome[]> {
  const plan = planBed(`${options.prefix ?? runPrefix(process.pid)}${family}-`, PODS, family);
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
    family: `IPv${o.family}`,
    layout: o.layout,
    expected: o.expected,
    reported: o.reported,
    result: o.pass ? 'pass' : 'FAIL',
  }));
}

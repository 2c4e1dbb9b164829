// Builds one bed, starts the real servers, and runs every scenario in every layout it applies
// to, resetting the bed in between. Shared by the tap test and `npm run e2e`.
import { join } from 'node:path';
import { planBed, runPrefix } from './bed-plan.js';
import { endpointOf, resetBed, SCENARIOS, serviceFor, type Scenario, type ScenarioContext, type ScenarioOutcome } from './scenarios.js';
import type { TableRow } from './table.js';
import { TestBed, type Layout } from './test-bed.js';

/** Three endpoints, plus one pod that runs but only becomes an endpoint on scale-up. */
const PODS = 4;

export interface SuiteOptions {
  /** Only these scenario ids (all when empty). */
  only?: readonly number[];
  layouts?: readonly Layout[];
  /** Called as each scenario ends (the by-hand runner prints the client's output here). */
  onOutcome?: (outcome: ScenarioOutcome) => void;
  prefix?: string;
  /** A directory to keep each scenario's client report and events in. */
  keepReports?: string;
}

export function plannedRuns(options: SuiteOptions = {}): { scenario: Scenario; layout: Layout }[] {
  const layouts = options.layouts ?? ['iptables', 'nftables'];
  const runs: { scenario: Scenario; layout: Layout }[] = [];
  for (const layout of layouts) {
    for (const scenario of SCENARIOS) {
      if (options.only && options.only.length > 0 && !options.only.includes(scenario.id)) continue;
      if (scenario.layouts.includes(layout)) runs.push({ scenario, layout });
    }
  }
  return runs;
}

export async function runSuite(options: SuiteOptions = {}): Promise<ScenarioOutcome[]> {
  const plan = planBed(options.prefix ?? runPrefix(process.pid), PODS);
  const bed = await TestBed.create(plan);
  const outcomes: ScenarioOutcome[] = [];
  try {
    await Promise.all(plan.pods.map((pod) => bed.startServer(pod)));
    const baseEndpoints = plan.pods.slice(0, PODS - 1).map((pod) => endpointOf(plan, pod));
    for (const { scenario, layout } of plannedRuns(options)) {
      const context: ScenarioContext = { bed, layout, service: serviceFor(plan), baseEndpoints };
      if (options.keepReports !== undefined) context.keepAs = join(options.keepReports, `scenario-${scenario.id}-${layout}`);
      await resetBed(context);
      const result = await scenario.run(context);
      const outcome: ScenarioOutcome = { id: scenario.id, title: scenario.title, layout, ...result, pass: result.checks.every((c) => c.pass) };
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
    layout: o.layout,
    expected: o.expected,
    reported: o.reported,
    result: o.pass ? 'pass' : 'FAIL',
  }));
}

// `npm run e2e` (or `make e2e`): the test bed by hand, as root. Runs every scenario, prints what
// the client printed in each, then the scenario table; exits 1 if any scenario failed.
//   npm run e2e -- --only 2,4 --layout nftables --family 6
//   npm run e2e -- --bed nodes
//   npm run e2e -- --only 14,15,16,17,18,19
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatTable } from './table.js';
import type { Family } from './service.js';
import { runSuite, tableRows, type BedKind } from './suite.js';
import { unsupportedReason, type Layout } from './test-bed.js';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}

const USAGE = `usage: npm run e2e [-- --only 1,2,...] [--bed single|nodes] [--layout iptables|nftables] [--family 4|6] [--keep-reports DIR]
Runs the end-to-end scenarios (needs root): the real client and servers in network namespaces,
and prints each scenario's client output, the checks against the kernel, and a table.
  scenarios 1-8   one node behind a client-side NAT, kube-proxy's rules, over IPv4 and IPv6
                  (a bed per family and layout, all at the same time; --family picks one)
  scenarios 9-12  a load balancer (ECMP) in front of three nodes: a node joins or leaves the
                  pool under externalTrafficPolicy Cluster or Local (IPv4)
  scenario 13     dual stack: one client, an IPv4 and an IPv6 target
  scenarios 14-19 the affinity verdict against conntrack, with a Kubernetes API stand-in
                  for the client's watch (14-17) and without (18-19), one node, IPv4
  scenarios 20-23 TCP sessions on beds of their own, IPv4 and IPv6: an endpoint removed with its
                  conntrack entries, a rolling replacement (the client's per-pod table), the
                  same with the server's --shutdown-delay draining vs without, and the
                  stability gate (--until-stable) on a healthy bed and under 5% loss
--bed nodes runs only scenarios 9-12 (--bed single all the others). --keep-reports keeps each
scenario's client report and events (NDJSON) in DIR. Exit code 0 when every scenario passed,
1 otherwise.`;

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  for (let i = 0; i < args.length; i += 2) {
    if (!['--only', '--bed', '--layout', '--family', '--keep-reports'].includes(args[i]!)) {
      process.stderr.write(`e2e: unknown argument ${args[i]}\n${USAGE}\n`);
      return 2;
    }
  }
  const reason = await unsupportedReason();
  if (reason !== undefined) {
    process.stderr.write(`e2e: ${reason}\n`);
    return 2;
  }
  const only = argument('--only')?.split(',').map(Number);
  if (only?.some((id) => !Number.isInteger(id) || id < 1 || id > 23)) {
    process.stderr.write(`e2e: --only takes scenario numbers 1-23 (9-12: several nodes, 13: dual stack, 14-19: the verdict, 20-23: TCP), e.g. --only 2,4\n`);
    return 2;
  }
  const bedArg = argument('--bed');
  if (bedArg !== undefined && bedArg !== 'single' && bedArg !== 'nodes') {
    process.stderr.write(`e2e: --bed must be single or nodes, not ${bedArg}\n`);
    return 2;
  }
  const beds: BedKind[] | undefined = bedArg === undefined ? undefined : [bedArg];
  const layoutArg = argument('--layout');
  if (layoutArg !== undefined && layoutArg !== 'iptables' && layoutArg !== 'nftables') {
    process.stderr.write(`e2e: --layout must be iptables or nftables, not ${layoutArg}\n`);
    return 2;
  }
  const layouts: Layout[] | undefined = layoutArg === undefined ? undefined : [layoutArg];
  const familyArg = argument('--family');
  if (familyArg !== undefined && familyArg !== '4' && familyArg !== '6') {
    process.stderr.write(`e2e: --family must be 4 or 6, not ${familyArg}\n`);
    return 2;
  }
  const families: Family[] | undefined = familyArg === undefined ? undefined : [Number(familyArg) as Family];
  const keepReports = argument('--keep-reports');
  if (keepReports !== undefined) mkdirSync(keepReports, { recursive: true });
  const started = Date.now();
  const outcomes = await runSuite({
    ...(only ? { only } : {}),
    ...(beds ? { beds } : {}),
    ...(layouts ? { layouts } : {}),
    ...(families ? { families } : {}),
    ...(keepReports ? { keepReports: resolve(keepReports) } : {}),
    onOutcome: (outcome) => {
      const rule = '='.repeat(100);
      process.stdout.write(`\n${rule}\nscenario ${outcome.id} (${outcome.layout}, ${outcome.family === 'dual' ? 'IPv4+IPv6' : `IPv${outcome.family}`}): ${outcome.title}\n${rule}\n`);
      process.stdout.write(outcome.client.stdout);
      if (outcome.client.stderr.trim() !== '') process.stdout.write(`[client stderr]\n${outcome.client.stderr}`);
      process.stdout.write(`-- client exit code ${outcome.client.code}\n`);
      for (const line of outcome.detail ?? []) process.stdout.write(`${line}\n`);
      for (const check of outcome.checks) process.stdout.write(`   ${check.pass ? 'ok  ' : 'FAIL'} ${check.name}${check.detail ? `: ${check.detail}` : ''}\n`);
    },
  });
  // Four text columns share what the terminal leaves beside the family, layout and result columns
  // (and the verdict's three narrow class columns, when shown).
  const columns = process.stdout.isTTY ? process.stdout.columns : 200;
  const classColumns = outcomes.some((o) => o.classes !== undefined) ? 3 * 16 : 0;
  const cellWidth = Math.max(24, Math.floor((columns - 6 - 8 - 6 - 15 - classColumns) / 4));
  process.stdout.write(`\n${formatTable(tableRows(outcomes), cellWidth)}\n\n`);
  const failed = outcomes.filter((o) => !o.pass).length;
  process.stdout.write(`${outcomes.length - failed} passed, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return failed === 0 ? 0 : 1;
}

// A Ctrl-C still removes the namespaces: the bed turns SIGINT into an exit and tears down on exit.
// Under tap (`npx tap test/e2e/lib/main.ts`, which bypasses the exclude list) this file is
// not a test and does nothing; the tap test is test/e2e/scenarios.ts.
if (process.env.TAP !== '1') {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`e2e: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}

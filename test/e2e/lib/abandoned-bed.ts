// Fixture for teardown.ts: builds a bed with a server in it and starts the Kubernetes API
// stand-in, then ends the process the way a failing run would (`exit`, `throw`, or waiting to be
// killed with a signal), never calling destroy() or close(). The exit handlers must still remove
// everything. Prints the server's pid and the stand-in's directory.
//   node dist/test/e2e/lib/abandoned-bed.js PREFIX exit|throw|SIGTERM|SIGALRM   (compiled by npm run build:test)
import { dirname } from 'node:path';
import { FakeKubeApi } from '../../fixtures/fake-kube-api.js';
import { planBed } from './bed-plan.js';
import { TestBed } from './test-bed.js';

const [prefix, how] = process.argv.slice(2);
if (prefix !== undefined) {
  const plan = planBed(prefix, 1);
  const bed = await TestBed.create(plan);
  const server = await bed.startServer(plan.pods[0]!);
  const api = await FakeKubeApi.start();
  process.stdout.write(`${server.child.pid} ${dirname(api.kubeconfigPath)}\n`);
  if (how === 'exit') process.exit(1);
  if (how === 'throw') throw new Error('a test failed');
  setInterval(() => undefined, 1000);
}

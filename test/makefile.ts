import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { PACKAGE_ROOT } from '../common/version.js';
import { FakeKubeApi } from './fixtures/fake-kube-api.js';
import { service } from './fixtures/kube-objects.js';
import { runMain } from './fixtures/run-main.js';

function make(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('make', ['--no-print-directory', ...args], { cwd: PACKAGE_ROOT, env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const makeMissing = await make(['--version']).then(
  () => false,
  () => true,
);
const skip = makeMissing ? 'make is not installed' : false;

function scratch(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'makefile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('make with no target prints help listing every target and the variables', { skip }, async (t) => {
  const result = await make([]);
  t.equal(result.code, 0, result.stderr);
  for (const target of ['apply-deployment', 'apply-service', 'client', 'node-scaleup', 'node-scaledown', 'clean', 'build', 'push', 'demo', 'test', 'e2e', 'image-test', 'help']) {
    t.match(result.stdout, new RegExp(`^  ${target} +\\S`, 'm'), `help lists ${target}`);
  }
  t.match(result.stdout, /NAMESPACE=affinity-tester SERVICE=affinity-tester IMAGE=affinity-tester TAG=\d+\.\d+\.\d+ REPLICAS=3/);
});

t.test('the Kubernetes targets call our CLI with NAMESPACE, IMAGE, TAG, REPLICAS and the scale-up settings', { skip }, async (t) => {
  const vars = ['NAMESPACE=perf', 'IMAGE=registry.example/at', 'TAG=9.9.9', 'REPLICAS=5', 'SCALEUP_REPLICAS=7', 'SCALEUP_CPU=1500m', 'SERVICE=udp', 'EXTERNAL_TRAFFIC_POLICY=Cluster'];
  const expected: Record<string, string> = {
    'apply-deployment': 'affinity-tester deploy --only deployment --namespace perf --image registry.example/at:9.9.9 --replicas 5 --timeout 5m',
    'apply-service': 'affinity-tester deploy --only service --namespace perf --service udp --session-affinity ClientIP --external-traffic-policy Cluster',
    'node-scaleup': 'affinity-tester scaleup --namespace perf --replicas 7 --cpu 1500m',
    'node-scaledown': 'affinity-tester scaledown --namespace perf',
    clean: 'affinity-tester clean --namespace perf --service udp',
    'apply-rbac': 'affinity-tester deploy --only rbac --namespace perf',
  };
  for (const [target, command] of Object.entries(expected)) {
    const result = await make(['-n', target, ...vars]);
    t.equal(result.code, 0, result.stderr);
    t.match(result.stdout.replace(/\\\n\s*/g, ''), command, target);
  }
  const build = await make(['-n', 'build', 'push', 'CONTAINER_TOOL=podman', 'IMAGE=registry.example/at', 'TAG=2']);
  t.match(build.stdout, /^podman build -t registry\.example\/at:2 \.$/m);
  t.match(build.stdout, /^podman push registry\.example\/at:2$/m);
  const none = await make(['build', 'CONTAINER_TOOL=']);
  t.equal(none.code, 2);
  t.match(none.stderr, /neither docker nor podman found/);
});

t.test('make client exports the non-empty settings of env.list and passes NAMESPACE and SERVICE', { skip }, async (t) => {
  const dir = scratch(t);
  const printer = join(dir, 'print.mjs');
  writeFileSync(printer, 'console.log(JSON.stringify({ args: process.argv.slice(2), env: process.env }));\n');
  const list = join(dir, 'env.list');
  writeFileSync(list, ['# a comment', 'TARGET_ADDR=', 'TARGET_PORT=3479', 'SESSIONS=250\r', '', 'DURATION=', 'MAX_LOSS=0.5'].join('\n'));
  const result = await make(['client', `ENV_FILE=${list}`, `CLI=node ${printer}`, 'NAMESPACE=perf'], { DURATION: undefined, TARGET_ADDR: undefined });
  t.equal(result.code, 0, result.stderr);
  const seen = JSON.parse(result.stdout.trim().split('\n').pop()!) as { args: string[]; env: Record<string, string> };
  t.same(seen.args, ['client', '--namespace', 'perf', '--service', 'affinity-tester']);
  t.equal(seen.env.TARGET_PORT, '3479');
  t.equal(seen.env.SESSIONS, '250', 'a CRLF line ending is dropped');
  t.equal(seen.env.MAX_LOSS, '0.5');
  t.notOk('TARGET_ADDR' in seen.env, 'an empty TARGET_ADDR is not exported, so the client discovers the target');
  t.notOk('DURATION' in seen.env, 'an empty value keeps the default');
});

t.test('the env.list in the repository only names settings the client reads', { skip }, async (t) => {
  const dir = scratch(t);
  const printer = join(dir, 'print.mjs');
  writeFileSync(printer, 'console.log(JSON.stringify(Object.keys(process.env)));\n');
  const result = await make(['client', `CLI=node ${printer}`], { WATCH: undefined });
  t.equal(result.code, 0, result.stderr);
  const keys = JSON.parse(result.stdout.trim().split('\n').pop()!) as string[];
  for (const key of ['TARGET_PORT', 'SESSIONS', 'RAMP', 'INTERVAL', 'TIMEOUT', 'STATS_INTERVAL', 'MAX_LOSS', 'MAX_VIOLATIONS', 'MAX_STUCK', 'STUCK_AFTER', 'REPORT_FILE']) {
    t.ok(keys.includes(key), `${key} is set from env.list`);
  }
  for (const key of ['MAX_POD_CHANGES', 'MAX_ADDRESS_CHANGES']) t.notOk(keys.includes(key), `${key} is empty in env.list: no limit`);
  const help = await runMain(['client', '--help']);
  const flat = help.stdout.replace(/\s+/g, ' ');
  for (const key of ['SESSIONS', 'RAMP', 'INTERVAL', 'TIMEOUT', 'STATS_INTERVAL', 'MAX_LOSS', 'MAX_VIOLATIONS', 'MAX_STUCK', 'STUCK_AFTER', 'MAX_POD_CHANGES', 'MAX_ADDRESS_CHANGES', 'REPORT_FILE', 'TARGET_PORT']) {
    t.match(flat, key, `client --help documents ${key}`);
  }
});

t.test('make discover prints TARGET_ADDR and TARGET_PORT from the fake API', { skip }, async (t) => {
  const api = await FakeKubeApi.start({ namespace: 'affinity-tester' });
  t.teardown(() => api.close());
  api.put(service('affinity-tester', { ingress: [{ ip: '198.51.100.20' }] }));
  // The built bin directly: npx's own start-up adds seconds and is not what is tested here.
  const result = await make(['-s', 'discover', 'CLI=node dist/cli/affinity-tester.js'], { KUBECONFIG: api.kubeconfigPath, NAMESPACE: undefined });
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /^TARGET_ADDR=198\.51\.100\.20\nTARGET_PORT=3478\n/m);
});

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { loadAllYaml } from '@kubernetes/client-node';
import { reportTextOf } from '../kube/collect.js';
import { MANIFEST_ROOT, readManifests, renderKustomization, strategicMerge, type Manifest } from './fixtures/kube-kustomize.js';
import { schemaError, unknownFields } from './fixtures/kube-schema.js';
import { makeTempDir } from './fixtures/temp-dir.js';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return name.endsWith('.yaml') && name !== 'kustomization.yaml' ? [path] : [];
  });
}

function kustomizations(dir: string): string[] {
  const here = readdirSync(dir).includes('kustomization.yaml') ? [dir] : [];
  return [...here, ...readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? kustomizations(join(dir, name)) : []))];
}

function find(objects: Manifest[], kind: string, name: string): any {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} missing`);
  return found;
}

const base = renderKustomization(MANIFEST_ROOT);
const job = renderKustomization(join(MANIFEST_ROOT, 'client'));

t.test('the schema checks catch a wrong type and an unknown field (they can fail)', async (t) => {
  const deployment = structuredClone(find(base, 'Deployment', 'affinity-tester'));
  deployment.spec.template.spec.containers[0].ports[0].protocol = 'QUIC';
  t.match(schemaError(deployment), /protocol must be equal to one of the allowed values/);
  const typo = structuredClone(find(base, 'Deployment', 'affinity-tester'));
  typo.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true;
  t.same(unknownFields(typo), ['Deployment.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem']);
});

t.test('every manifest file is valid against the Kubernetes OpenAPI schema and has no unknown field', async (t) => {
  const files = yamlFiles(MANIFEST_ROOT);
  t.ok(files.length >= 6, `${files.length} files`);
  for (const file of files) {
    for (const manifest of readManifests(file)) {
      const where = `${relative(MANIFEST_ROOT, file)} ${manifest.kind}/${manifest.metadata.name}`;
      t.equal(schemaError(manifest), undefined, `${where} matches the schema`);
      t.same(unknownFields(manifest), [], `${where} has only known fields`);
    }
  }
});

t.test('every kustomization (base, overlays, client) renders to valid objects', async (t) => {
  const dirs = kustomizations(MANIFEST_ROOT);
  t.same(dirs.map((dir) => relative(MANIFEST_ROOT, dir) || '.').sort(), [
    '.',
    'base',
    'client',
    'overlays/cluster-policy',
    'overlays/dual-stack',
    'overlays/dual-stack-ipv6-first',
    'overlays/no-affinity',
    'overlays/no-affinity-cluster-policy',
  ]);
  for (const dir of dirs) {
    const objects = renderKustomization(dir);
    t.ok(objects.length > 0);
    for (const manifest of objects) {
      const where = `${relative(MANIFEST_ROOT, dir) || '.'}: ${manifest.kind}/${manifest.metadata.name}`;
      t.equal(schemaError(manifest), undefined, `${where} matches the schema`);
      t.same(unknownFields(manifest), [], `${where} has only known fields`);
      if (!['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(manifest.kind)) {
        t.equal(manifest.metadata.namespace, 'affinity-tester', `${where} is in the affinity-tester namespace`);
      }
    }
  }
});

t.test('the overlays change only the Service, to the combinations users compare', async (t) => {
  const expected: Record<string, [string, string]> = {
    '.': ['ClientIP', 'Local'],
    'overlays/no-affinity': ['None', 'Local'],
    'overlays/cluster-policy': ['ClientIP', 'Cluster'],
    'overlays/no-affinity-cluster-policy': ['None', 'Cluster'],
  };
  for (const [dir, [affinity, policy]] of Object.entries(expected)) {
    const objects = renderKustomization(join(MANIFEST_ROOT, dir));
    const service = find(objects, 'Service', 'affinity-tester');
    t.equal(service.spec.sessionAffinity, affinity, `${dir} sessionAffinity`);
    t.equal(service.spec.externalTrafficPolicy, policy, `${dir} externalTrafficPolicy`);
    const others = (list: Manifest[]) => list.filter((o) => o.kind !== 'Service');
    t.same(others(objects), others(base), `${dir} leaves everything else as in the base`);
  }
});

t.test('the dual-stack overlays add PreferDualStack with ipFamilies in either order and change nothing else', async (t) => {
  const baseService = find(base, 'Service', 'affinity-tester');
  t.equal(baseService.spec.ipFamilyPolicy, undefined, 'the base leaves the family to the cluster (single stack)');
  const expected: Record<string, string[]> = {
    'overlays/dual-stack': ['IPv4', 'IPv6'],
    'overlays/dual-stack-ipv6-first': ['IPv6', 'IPv4'],
  };
  for (const [dir, families] of Object.entries(expected)) {
    const objects = renderKustomization(join(MANIFEST_ROOT, dir));
    const service = find(objects, 'Service', 'affinity-tester');
    t.equal(service.spec.ipFamilyPolicy, 'PreferDualStack', `${dir} ipFamilyPolicy`);
    t.same(service.spec.ipFamilies, families, `${dir} ipFamilies, the main family first`);
    const { ipFamilyPolicy, ipFamilies, ...rest } = service.spec;
    t.same(rest, baseService.spec, `${dir} keeps the base Service's other fields`);
    const others = (list: Manifest[]) => list.filter((o) => o.kind !== 'Service');
    t.same(others(objects), others(base), `${dir} leaves everything else as in the base`);
  }
  const wrong = structuredClone(find(renderKustomization(join(MANIFEST_ROOT, 'overlays/dual-stack')), 'Service', 'affinity-tester'));
  wrong.spec.ipFamilies = ['IPv5'];
  t.match(schemaError(wrong), /ipFamilies/, 'the schema check catches a wrong family');
});

t.test('the server Deployment: 3 replicas, downward API names, probe on /healthz, limits, hardened', async (t) => {
  const deployment = find(base, 'Deployment', 'affinity-tester');
  t.equal(deployment.spec.replicas, 3);
  const pod = deployment.spec.template.spec;
  t.same(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels, 'the selector matches the pod labels');
  const [container] = pod.containers;
  const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.valueFrom?.fieldRef?.fieldPath ?? e.value]));
  t.equal(env.POD_NAME, 'metadata.name');
  t.equal(env.NODE_NAME, 'spec.nodeName');
  t.same(
    container.ports.map((p: any) => [p.name, p.containerPort, p.protocol]),
    [
      ['stun', 3478, 'UDP'],
      ['stun-tcp', 3478, 'TCP'],
      ['http', 8080, 'TCP'],
    ],
  );
  t.equal(env.PORT, '3478');
  t.equal(env.HTTP_PORT, '8080');
  t.equal(container.readinessProbe.httpGet.path, '/healthz');
  t.equal(container.readinessProbe.httpGet.port, 'http');
  t.ok(container.resources.requests.cpu && container.resources.requests.memory, 'requests');
  t.ok(container.resources.limits.cpu && container.resources.limits.memory, 'limits');
  const sleep = Number(container.lifecycle.preStop.exec.command.at(-1));
  t.ok(sleep > 0 && pod.terminationGracePeriodSeconds > sleep, 'the grace period outlasts the preStop sleep');
  t.equal(pod.automountServiceAccountToken, false, 'the server gets no API token');
});

t.test('the Service: LoadBalancer, UDP and TCP 3478 to the stun ports, ClientIP affinity, Local policy, selects the server pods', async (t) => {
  const service = find(base, 'Service', 'affinity-tester');
  const deployment = find(base, 'Deployment', 'affinity-tester');
  t.equal(service.spec.type, 'LoadBalancer');
  t.same(service.spec.ports, [
    { name: 'stun', protocol: 'UDP', port: 3478, targetPort: 'stun' },
    { name: 'stun-tcp', protocol: 'TCP', port: 3478, targetPort: 'stun-tcp' },
  ]);
  const containerPorts = deployment.spec.template.spec.containers[0].ports.map((p: any) => p.name);
  for (const port of service.spec.ports) t.ok(containerPorts.includes(port.targetPort), `${port.name} targets a named container port`);
  t.equal(service.spec.sessionAffinity, 'ClientIP');
  t.equal(service.spec.externalTrafficPolicy, 'Local');
  t.same(service.spec.selector, deployment.spec.template.metadata.labels);
});

t.test('the node scale-up workload: pause pods with CPU requests and 0 replicas until asked', async (t) => {
  const scaleup = find(base, 'Deployment', 'affinity-tester-node-scaleup');
  t.equal(scaleup.spec.replicas, 0);
  const [container] = scaleup.spec.template.spec.containers;
  t.match(container.image, /pause/);
  t.ok(container.resources.requests.cpu, 'CPU requests force new nodes');
  const service = find(base, 'Service', 'affinity-tester');
  const labels = scaleup.spec.template.metadata.labels;
  t.notOk(Object.entries(service.spec.selector).every(([k, v]) => labels[k] === v), 'the Service does not select the pause pods');
});

t.test('every container runs as non-root with a read-only root filesystem and no capabilities', async (t) => {
  const workloads = [...base, ...job].filter((o) => o.kind === 'Deployment' || o.kind === 'Job');
  t.equal(workloads.length, 3);
  for (const workload of workloads) {
    const pod = (workload as any).spec.template.spec;
    for (const container of pod.containers) {
      const where = `${workload.kind}/${workload.metadata.name} ${container.name}`;
      const context = container.securityContext;
      t.equal(context.runAsNonRoot ?? pod.securityContext?.runAsNonRoot, true, `${where} runAsNonRoot`);
      t.ok((context.runAsUser ?? pod.securityContext?.runAsUser) > 0, `${where} runs as a numeric non-root user`);
      t.equal(context.readOnlyRootFilesystem, true, `${where} readOnlyRootFilesystem`);
      t.equal(context.allowPrivilegeEscalation, false, `${where} allowPrivilegeEscalation`);
      t.same(context.capabilities.drop, ['ALL'], `${where} drops ALL capabilities`);
      t.ok(container.resources?.limits?.memory, `${where} has a memory limit`);
    }
  }
});

t.test('RBAC is read-only (get/list/watch) on exactly what the cluster watch and collect read', async (t) => {
  const roles = base.filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole') as any[];
  const granted: string[] = [];
  for (const role of roles) {
    for (const rule of role.rules) {
      const expected = rule.resources.includes('pods/log') || rule.resources.includes('jobs') ? ['get'] : ['get', 'list', 'watch'];
      t.same([...rule.verbs].sort(), expected, `${role.kind}/${role.metadata.name} grants read verbs only (collect: get jobs and pods/log)`);
      t.notOk([...rule.resources, ...rule.apiGroups].includes('*'), 'no wildcards');
      for (const group of rule.apiGroups) for (const resource of rule.resources) granted.push(`${role.kind}:${group || 'core'}/${resource}`);
    }
  }
  t.same(granted.sort(), [
    'ClusterRole:core/nodes',
    'Role:batch/jobs',
    'Role:core/events',
    'Role:core/pods',
    'Role:core/pods/log',
    'Role:core/services',
    'Role:discovery.k8s.io/endpointslices',
  ]);
  const account = find(base, 'ServiceAccount', 'affinity-tester-client');
  for (const binding of base.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') as any[]) {
    t.ok(roles.some((r) => r.kind === binding.roleRef.kind && r.metadata.name === binding.roleRef.name), `${binding.metadata.name} binds a role that exists`);
    t.same(binding.subjects, [{ kind: 'ServiceAccount', name: account.metadata.name, namespace: 'affinity-tester' }]);
  }
});

t.test('the client Job runs several clients with the read-only ServiceAccount and prints each report', async (t) => {
  const clientJob = find(job, 'Job', 'affinity-tester-client');
  t.ok(clientJob.spec.parallelism > 1, 'several clients in parallel');
  const pod = clientJob.spec.template.spec;
  t.equal(pod.serviceAccountName, find(base, 'ServiceAccount', 'affinity-tester-client').metadata.name);
  t.equal(pod.restartPolicy, 'Never');
  const script = pod.containers[0].args.join('\n');
  t.match(script, /affinity-tester\.js client/);
  t.match(script, /--report \/reports\/report\.json/);
  t.match(script, /cat \/reports\/report\.json/);
  t.ok(pod.containers[0].volumeMounts.some((m: any) => m.mountPath === '/reports'), 'the report goes to a writable emptyDir');
});

t.test('the stability gate Job runs one client with --until-stable settings from its env, UDP and TCP, and no retry of its own', async (t) => {
  const [gate] = readManifests(join(MANIFEST_ROOT, 'client', 'stability-gate-job.yaml')) as any[];
  t.equal(gate.kind, 'Job');
  t.equal(gate.metadata.namespace, 'affinity-tester');
  t.equal(gate.spec.backoffLimit, 0);
  const pod = gate.spec.template.spec;
  t.equal(pod.serviceAccountName, find(base, 'ServiceAccount', 'affinity-tester-client').metadata.name);
  t.equal(pod.containers[0].args[0], 'client');
  const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value]));
  t.same([env.PROTOCOL, env.UNTIL_STABLE, env.MAX_TRIES, env.RETRY_WAIT], ['both', '30s', '10', '15s']);
  t.notOk(job.some((o) => o.metadata.name === gate.metadata.name), 'not started by kubectl apply -k manifests/client');
});

t.test('the client Job is an Indexed Job whose pods split SESSIONS and print reports that collect reads', async (t) => {
  const clientJob = find(job, 'Job', 'affinity-tester-client');
  t.equal(clientJob.spec.completionMode, 'Indexed');
  t.equal(clientJob.spec.completions, clientJob.spec.parallelism, 'all clients run at the same time');
  const container = clientJob.spec.template.spec.containers[0];
  const env = Object.fromEntries(container.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
  t.equal(Number(env.CLIENTS), clientJob.spec.completions, 'CLIENTS is the number of completions');

  // The pod's script under sh, with `node` a shell function that records its --sessions and writes
  // a report, and /reports a temporary folder: what each index runs and what its log carries.
  const dir = makeTempDir('client-job-');
  const script = container.args.join('\n').replaceAll('/reports/', `${dir}/`);
  const fakeNode = `node() { while [ "$1" != --sessions ]; do shift; done; printf '{"tool":"affinity-tester","sessions":%s}' "$2" > ${dir}/report.json; return 1; }`;
  const shares: number[] = [];
  for (let index = 0; index < clientJob.spec.completions; index++) {
    let log = '';
    try {
      execFileSync('sh', ['-c', `${fakeNode}\n${script}`], { env: { ...env, SESSIONS: '1000', JOB_COMPLETION_INDEX: String(index), POD_NAME: `client-${index}`, PATH: process.env.PATH }, encoding: 'utf8' });
    } catch (error) {
      t.equal((error as { status: number }).status, 1, 'the pod exits with the client\'s exit code');
      log = (error as { stdout: string }).stdout;
    }
    const report = JSON.parse(reportTextOf(log)!) as { sessions: number };
    t.same(report, JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')), `index ${index}: collect reads the report from the log`);
    shares.push(report.sessions);
  }
  t.same(shares, [334, 333, 333], 'SESSIONS=1000 over 3 pods');
});

t.test('strategicMerge() merges maps, replaces scalars and lists, and deletes on null', async (t) => {
  t.same(strategicMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: null, e: 'x' }), { a: { b: 1, c: [3] }, e: 'x' });
});

// The renderer above is minimal; where kubectl is installed, check that it renders what the real
// kustomize (built into kubectl) renders. Without kubectl this test is skipped, not faked.
function kubectlKustomize(dir: string): Manifest[] | undefined {
  try {
    return loadAllYaml(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 })) as Manifest[];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

const hasKubectl = kubectlKustomize(join(MANIFEST_ROOT, 'client')) !== undefined;

t.test('the minimal renderer agrees with kubectl kustomize on every kustomization', { skip: hasKubectl ? false : 'kubectl is not installed' }, async (t) => {
  const byName = (objects: Manifest[]) =>
    Object.fromEntries(objects.map((o) => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]));
  for (const dir of kustomizations(MANIFEST_ROOT)) {
    const real = kubectlKustomize(dir)!;
    t.same(byName(renderKustomization(dir)), byName(real), relative(MANIFEST_ROOT, dir) || '.');
  }
});

// The Kubernetes subcommands: deploy, discover, scaleup, scaledown, clean. They talk to the API
// through @kubernetes/client-node (no kubectl needed). The kube modules are imported inside the
// actions, so `affinity-tester server` and `client` do not pay for loading the client library.
// Failures are thrown as KubeError; the CLI prints them as one line and picks the exit code.
// Progress goes to stderr, results to stdout (so `$(affinity-tester discover)` works).
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CommandIo } from '../common/command-io.js';
import { durationOption, integerOption } from '../common/options.js';
import { formatEndpoint } from '../common/ip-address.js';
import type { DeployPart } from './deploy.js';
import type { KubeConnection } from './kubeconfig.js';
import { progressPrinter } from './progress-printer.js';

interface KubeFlags {
  namespace?: string;
  service: string;
  kubeconfig?: string;
}

function addKubeOptions(command: Command, withService = true): Command {
  command.addOption(new Option('--namespace <name>', "namespace (default: the kubeconfig context's, else default)").env('NAMESPACE'));
  if (withService) {
    command.addOption(new Option('--service <name>', 'the Service name').env('SERVICE').default('affinity-tester'));
  }
  return command.addOption(
    new Option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then the in-cluster service account)').env('KUBECONFIG'),
  );
}

/** The cluster and namespace the flags name; the kubeconfig is looked for in the command's environment. */
async function connect(flags: { namespace?: string; kubeconfig?: string }, io: CommandIo): Promise<KubeConnection> {
  const { connectKube } = await import('./kubeconfig.js');
  return connectKube({
    search: { env: io.env, ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}) },
    ...(flags.namespace ? { namespace: flags.namespace } : {}),
  });
}

/** A CPU quantity as Kubernetes takes it for requests: whole or decimal cores, or millicores; not zero. */
function cpuOption(value: string): string {
  if (!/^(\d+(\.\d+)?|\.\d+|\d+m)$/.test(value) || /^0+(\.0+)?m?$/.test(value)) {
    throw new InvalidArgumentError('expected a CPU quantity such as 1, 1.5 or 500m.');
  }
  return value;
}

function partsOption(value: string): DeployPart[] {
  const parts = value.split(',').map((part) => part.trim()).filter((part) => part !== '');
  const known: readonly DeployPart[] = ['deployment', 'service', 'rbac'];
  const unknown = parts.filter((part) => !known.includes(part as DeployPart));
  if (parts.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`expected a comma-separated list of ${known.join(', ')}.`);
  return parts as DeployPart[];
}

export function registerKubeCommands(program: Command, io: CommandIo): void {
  const progress = () => progressPrinter(io.err, io.errIsTTY === true);
  addKubeOptions(
    program
      .command('deploy')
      .description('apply the server Deployment and its LoadBalancer Service from manifests/, and wait until the pods are ready')
      .addOption(new Option('--image <ref>', 'server image (default: the one in manifests/base/deployment.yaml)').env('SERVER_IMAGE'))
      .addOption(new Option('--replicas <n>', 'server pods').env('REPLICAS').default(3).argParser(integerOption(1, 1000)))
      .addOption(new Option('--session-affinity <mode>', 'the Service\'s sessionAffinity').env('SESSION_AFFINITY').choices(['ClientIP', 'None']).default('ClientIP'))
      .addOption(
        new Option('--external-traffic-policy <policy>', "the Service's externalTrafficPolicy")
          .env('EXTERNAL_TRAFFIC_POLICY')
          .choices(['Local', 'Cluster'])
          .default('Local'),
      )
      .addOption(
        new Option('--only <parts>', 'apply only these, comma-separated: deployment, service, rbac (the client\'s read-only RBAC)')
          .env('DEPLOY_ONLY')
          .default(['deployment', 'service'], 'deployment,service')
          .argParser(partsOption),
      )
      .addOption(new Option('--no-wait', 'do not wait for the pods to be ready'))
      .addOption(new Option('--timeout <duration>', 'how long to wait for ready pods').env('DEPLOY_TIMEOUT').default(durationOption('5m'), '5m').argParser(durationOption)),
  ).action(async (flags: KubeFlags & { image?: string; replicas: number; sessionAffinity: 'ClientIP' | 'None'; externalTrafficPolicy: 'Local' | 'Cluster'; only: DeployPart[]; wait: boolean; timeout: number }) => {
    const { kubeConfig, namespace } = await connect(flags, io);
    const { deploy } = await import('./deploy.js');
    const printer = progress();
    const result = await deploy({
      kubeConfig,
      namespace,
      service: flags.service,
      replicas: flags.replicas,
      sessionAffinity: flags.sessionAffinity,
      externalTrafficPolicy: flags.externalTrafficPolicy,
      parts: flags.only,
      wait: flags.wait && flags.only.includes('deployment'),
      timeoutMs: flags.timeout,
      onProgress: (text) => {
        if (text.startsWith('waiting')) printer.line(text);
      },
      ...(flags.image ? { image: flags.image } : {}),
    }).finally(() => printer.done());
    for (const object of result.objects) io.out(`${object.ref} ${object.action}${object.namespace ? ` in namespace ${object.namespace}` : ''}\n`);
    for (const pod of result.pods) {
      io.out(`pod ${pod.name} ready${pod.node ? ` on node ${pod.node}` : ''}${pod.ips.length > 0 ? ` (${pod.ips.join(', ')})` : ''}\n`);
    }
    io.setExitCode(0);
  });

  addKubeOptions(
    program
      .command('discover')
      .description("wait for the Service's LoadBalancer address and print it (progress on stderr)")
      .addOption(
        new Option('--timeout <duration>', 'how long to wait for the LoadBalancer address').env('DISCOVER_TIMEOUT').default(durationOption('5m'), '5m').argParser(durationOption),
      )
      .addOption(
        new Option('--output <format>', 'host: the address; endpoint: HOST:PORT ([IPv6]:PORT); env: TARGET_ADDR= and TARGET_PORT= lines; json (with every ingress address and its family)')
          .env('DISCOVER_OUTPUT')
          .choices(['host', 'endpoint', 'env', 'json'])
          .default('host'),
      )
      .addOption(
        new Option('--family <family>', 'which ingress address of a dual-stack Service: 4, 6, or any (the first, IPv4 or IPv6 or a host name); waits until one of that family is there')
          .env('DISCOVER_FAMILY')
          .choices(['4', '6', 'any'])
          .default('any'),
      ),
  ).action(async (flags: KubeFlags & { timeout: number; output: 'host' | 'endpoint' | 'env' | 'json'; family: '4' | '6' | 'any' }) => {
    const { kubeConfig, namespace } = await connect(flags, io);
    const { addressesFor, discoverServiceAddresses } = await import('./discover.js');
    const printer = progress();
    const family = flags.family === 'any' ? 'any' : flags.family === '4' ? 4 : 6;
    const found = await discoverServiceAddresses({ kubeConfig, namespace, service: flags.service, timeoutMs: flags.timeout, family, onProgress: printer.line }).finally(() =>
      printer.done(),
    );
    const chosen = addressesFor(found.addresses, family)[0]!;
    const lines: Record<typeof flags.output, string> = {
      host: chosen.host,
      endpoint: formatEndpoint(chosen.host, found.port),
      env: `TARGET_ADDR=${chosen.host}\nTARGET_PORT=${found.port}`,
      json: JSON.stringify({ namespace, service: flags.service, host: chosen.host, port: found.port, family: chosen.family, addresses: found.addresses }),
    };
    io.out(`${lines[flags.output]}\n`);
    io.setExitCode(0);
  });

  addKubeOptions(
    program
      .command('scaleup')
      .description('start pause pods whose CPU requests make the cluster autoscaler add nodes (manifests/base/node-scaleup.yaml)')
      .addOption(new Option('--replicas <n>', 'pause pods').env('SCALEUP_REPLICAS').default(10).argParser(integerOption(1, 10_000)))
      .addOption(new Option('--cpu <quantity>', 'CPU request of each pause pod, e.g. 1, 1.5, 500m (default: the manifest\'s, 1)').env('SCALEUP_CPU').argParser(cpuOption)),
    false,
  ).action(async (flags: KubeFlags & { replicas: number; cpu?: string }) => {
    const { kubeConfig, namespace } = await connect(flags, io);
    const { scaleNodeWorkload } = await import('./scale.js');
    const result = await scaleNodeWorkload({ kubeConfig, namespace, replicas: flags.replicas, ...(flags.cpu ? { cpu: flags.cpu } : {}) });
    io.out(
      `${result.ref} ${result.action} in namespace ${namespace}: ${result.replicas} pause pods requesting ${result.cpu} CPU each; pods that do not fit stay Pending until the autoscaler adds nodes (kubectl get nodes -w)\n`,
    );
    io.setExitCode(0);
  });

  addKubeOptions(
    program.command('scaledown').description('scale the pause pods to 0, so the cluster autoscaler removes the nodes it added'),
    false,
  ).action(async (flags: KubeFlags) => {
    const { kubeConfig, namespace } = await connect(flags, io);
    const { scaleNodeWorkload } = await import('./scale.js');
    const result = await scaleNodeWorkload({ kubeConfig, namespace, replicas: 0 });
    if (result.action === 'absent') {
      io.out(`${result.ref} not found in namespace ${namespace}: nothing to scale down\n`);
    } else {
      io.out(`${result.ref} scaled to 0 in namespace ${namespace}; the autoscaler removes empty nodes after its scale-down delay (often about 10 minutes)\n`);
    }
    io.setExitCode(0);
  });

  addKubeOptions(
    program
      .command('clean')
      .description('delete the server Deployment, the Service, the scale-up pods and the client Job')
      .addOption(new Option('--rbac', "also delete the client's ServiceAccount, Role, ClusterRole and bindings")),
  ).action(async (flags: KubeFlags & { rbac?: boolean }) => {
    const { kubeConfig, namespace } = await connect(flags, io);
    const { clean } = await import('./clean.js');
    const result = await clean({ kubeConfig, namespace, service: flags.service, rbac: flags.rbac === true });
    for (const object of result.objects) {
      io.out(`${object.ref} ${object.action === 'absent' ? 'not found (nothing to delete)' : 'deleted'}\n`);
    }
    io.setExitCode(0);
  });
}

// The YAML in manifests/ is the one description of what runs in the cluster: `kubectl apply -k`
// reads it, and so do `affinity-tester deploy`, `scaleup` and `clean`, which adjust a copy
// (namespace, image, replicas, Service settings) before sending it. Pure apart from reading files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAllYaml, type KubernetesObject } from '@kubernetes/client-node';
import { PACKAGE_ROOT } from '../common/version.js';

/** manifests/base: the objects themselves (the overlays and the client Job build on them). */
export const MANIFEST_DIR = join(PACKAGE_ROOT, 'manifests', 'base');

export const SERVER_DEPLOYMENT = 'affinity-tester';
export const SCALEUP_DEPLOYMENT = 'affinity-tester-node-scaleup';
export const CLIENT_JOB = 'affinity-tester-client';

/** A manifest object as plain data (the YAML parsed), with the fields we touch typed loosely. */
export type Manifest = KubernetesObject & { metadata: { name: string; namespace?: string }; [key: string]: any };

export function loadManifests(file: string, dir = MANIFEST_DIR): Manifest[] {
  return loadAllYaml(readFileSync(join(dir, file), 'utf8')).filter((doc) => doc) as Manifest[];
}

function only(objects: Manifest[], kind: string, file: string): Manifest {
  const found = objects.find((object) => object.kind === kind);
  if (!found) throw new Error(`manifests/${file} has no ${kind}`);
  return found;
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);

/** Puts namespaced objects (and ServiceAccount subjects of bindings) into `namespace`, as kustomize does. */
export function inNamespace(objects: Manifest[], namespace: string): Manifest[] {
  return objects.map((source) => {
    const object = structuredClone(source);
    if (!CLUSTER_SCOPED.has(object.kind ?? '')) object.metadata.namespace = namespace;
    for (const subject of object.subjects ?? []) if (subject.kind === 'ServiceAccount') subject.namespace = namespace;
    return object;
  });
}

export interface ServerSettings {
  namespace: string;
  /** The Service's name (the Deployment keeps its own). */
  service?: string;
  image?: string;
  replicas?: number;
  sessionAffinity?: 'ClientIP' | 'None';
  externalTrafficPolicy?: 'Local' | 'Cluster';
}

export function serverDeployment(settings: ServerSettings, dir = MANIFEST_DIR): Manifest {
  const [deployment] = inNamespace([only(loadManifests('deployment.yaml', dir), 'Deployment', 'deployment.yaml')], settings.namespace);
  if (settings.replicas !== undefined) deployment!.spec.replicas = settings.replicas;
  if (settings.image) deployment!.spec.template.spec.containers[0].image = settings.image;
  return deployment!;
}

export function serverService(settings: ServerSettings, dir = MANIFEST_DIR): Manifest {
  const [service] = inNamespace([only(loadManifests('service.yaml', dir), 'Service', 'service.yaml')], settings.namespace);
  if (settings.service) service!.metadata.name = settings.service;
  if (settings.sessionAffinity) service!.spec.sessionAffinity = settings.sessionAffinity;
  if (settings.externalTrafficPolicy) service!.spec.externalTrafficPolicy = settings.externalTrafficPolicy;
  return service!;
}

export function rbacObjects(namespace: string, dir = MANIFEST_DIR): Manifest[] {
  return inNamespace(loadManifests('rbac.yaml', dir), namespace);
}

export interface ScaleupSettings {
  namespace: string;
  replicas: number;
  /** CPU request (and limit) of each pause pod, a Kubernetes quantity: "1", "500m", "1.5". */
  cpu?: string;
}

export function scaleupDeployment(settings: ScaleupSettings, dir = MANIFEST_DIR): Manifest {
  const [deployment] = inNamespace([only(loadManifests('node-scaleup.yaml', dir), 'Deployment', 'node-scaleup.yaml')], settings.namespace);
  deployment!.spec.replicas = settings.replicas;
  if (settings.cpu) {
    const resources = deployment!.spec.template.spec.containers[0].resources;
    resources.requests.cpu = settings.cpu;
    resources.limits.cpu = settings.cpu;
  }
  return deployment!;
}

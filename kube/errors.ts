// Turns what the Kubernetes API (or the network on the way to it) throws into one line a user can
// act on. Deep code throws KubeError with a kind; the CLI prints `message` and exits 2.

export type KubeErrorKind =
  | 'no-kubeconfig'
  | 'bad-kubeconfig'
  | 'forbidden'
  | 'unauthorized'
  | 'not-found'
  | 'no-ingress'
  | 'unreachable'
  | 'timeout'
  | 'invalid'
  | 'api';

export class KubeError extends Error {
  override name = 'KubeError';
  constructor(
    readonly kind: KubeErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** What the failed call was doing, so the message can say "cannot list pods in namespace x". */
export interface KubeOperation {
  /** The RBAC verb: get, list, watch, create, update, patch, delete. */
  verb: string;
  /** The resource as RBAC names it, with its group when not core: "pods", "endpointslices.discovery.k8s.io". */
  resource: string;
  namespace?: string;
  name?: string;
  /** The API server's address, for "cannot reach" messages. */
  server?: string;
}

/** The HTTP status of an error from @kubernetes/client-node: ApiException has `code`, Watch errors `statusCode`. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const record = error as { code?: unknown; statusCode?: unknown };
  if (typeof record.code === 'number') return record.code;
  if (typeof record.statusCode === 'number') return record.statusCode;
  return undefined;
}

/** The `message` of a Kubernetes Status body, when the error carries one. */
function statusMessage(error: unknown): string | undefined {
  const body = (error as { body?: unknown })?.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.trim() === '' ? undefined : body.trim().split('\n')[0];
    }
  }
  const message = (parsed as { message?: unknown })?.message;
  return typeof message === 'string' ? message : undefined;
}

// Node's socket errors and node-fetch's FetchError carry these codes; none of them has an HTTP status.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'ERR_TLS_CERT_ALTNAME_INVALID']);

function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    const errno = (e as { errno?: unknown }).errno;
    if (typeof errno === 'string' && NETWORK_CODES.has(errno)) return errno;
  }
  return undefined;
}

function where(op: KubeOperation): string {
  return op.namespace ? ` in namespace ${op.namespace}` : ' (cluster-wide)';
}

function target(op: KubeOperation): string {
  return op.name ? `${op.resource} ${op.name}` : op.resource;
}

/** One line for any error met while doing `op`; a KubeError passes through unchanged. */
export function toKubeError(error: unknown, op: KubeOperation): KubeError {
  if (error instanceof KubeError) return error;
  const status = statusOf(error);
  if (status === 403) {
    return new KubeError(
      'forbidden',
      `forbidden: RBAC does not allow "${op.verb}" on ${op.resource}${where(op)}; grant it (see manifests/base/rbac.yaml) or use another kubeconfig context`,
    );
  }
  if (status === 401) {
    return new KubeError('unauthorized', `unauthorized: the API server rejected the kubeconfig's credentials (${op.verb} ${op.resource}); log in again or refresh the token`);
  }
  if (status === 404) {
    const thing = op.resource === 'services' && op.name ? `Service ${op.name}` : target(op);
    return new KubeError('not-found', `${thing} not found${where(op)}`);
  }
  const code = networkCode(error);
  if (code) {
    return new KubeError('unreachable', `cannot reach the Kubernetes API${op.server ? ` at ${op.server}` : ''}: ${code}`);
  }
  const detail = statusMessage(error) ?? firstLine(error);
  return new KubeError('api', `${op.verb} ${target(op)}${where(op)} failed${status ? ` (HTTP ${status})` : ''}: ${detail}`);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

// The one place an error becomes what the user sees: one line on stderr and an exit code. Deep
// code throws by kind (UsageError, SetupError, KubeError); anything else is a defect, printed as
// one line too, with its stack only when DEBUG is set.
import { CommanderError } from 'commander';
import { ExitCode, SetupError, UsageError } from '../common/errors.js';
import { KubeError, type KubeErrorKind } from '../kube/errors.js';

/**
 * What the user can fix (kubeconfig, RBAC, names, a load balancer that never came) is a set-up
 * failure, exit 2; an API server that fails a call it understood (HTTP 500, a conflict) is a run
 * that failed, exit 1.
 */
const KUBE_EXIT_CODES: Record<KubeErrorKind, number> = {
  'no-kubeconfig': ExitCode.Usage,
  'bad-kubeconfig': ExitCode.Usage,
  forbidden: ExitCode.Usage,
  unauthorized: ExitCode.Usage,
  'not-found': ExitCode.Usage,
  'no-ingress': ExitCode.Usage,
  unreachable: ExitCode.Usage,
  timeout: ExitCode.Usage,
  invalid: ExitCode.Usage,
  api: ExitCode.Failed,
};

export interface Failure {
  code: number;
  /** What to write to stderr (empty when commander has already said it). */
  text: string;
}

export function failureOf(error: unknown, debug: boolean): Failure {
  // Commander has printed its own line (or the help, or the version) through the io.
  if (error instanceof CommanderError) return { code: error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage, text: '' };
  if (error instanceof UsageError || error instanceof SetupError) return { code: ExitCode.Usage, text: `affinity-tester: ${error.message}\n` };
  if (error instanceof KubeError) return { code: KUBE_EXIT_CODES[error.kind], text: `affinity-tester: ${error.message}\n` };
  const message = error instanceof Error ? error.message : String(error);
  const stack = debug && error instanceof Error && error.stack ? `${error.stack}\n` : '';
  return { code: ExitCode.Failed, text: `affinity-tester: ${message}\n${stack}` };
}

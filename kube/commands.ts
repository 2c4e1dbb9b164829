import type { Command } from 'commander';
// Stub: replaced by the Kubernetes commands (deploy, discover, scaleup, scaledown, clean).
export function registerKubeCommands(_program: Command): void {}

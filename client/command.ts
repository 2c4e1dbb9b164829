import type { Command } from 'commander';
// Stub: replaced by the client implementation.
export function registerClientCommand(program: Command): void {
  program.command('client').description('run simulated UDP sessions against a target and report affinity breaks');
}

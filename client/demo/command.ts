import type { Command } from 'commander';
// Stub: replaced by the demo implementation.
export function registerDemoCommand(program: Command): void {
  program.command('demo').description('run a local demo: three server pods behind a demo balancer, and the client');
}

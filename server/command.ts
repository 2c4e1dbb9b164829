import type { Command } from 'commander';
// Stub: replaced by the server implementation.
export function registerServerCommand(program: Command): void {
  program.command('server').description('run the STUN-compatible UDP server a pod runs');
}

// The client's transport flags: --protocol udp|tcp|both and, for TCP, how to reconnect. Each has
// an environment variable; --reconnect's is read here, like WATCH, since commander would take
// RECONNECT=false as "set".
import { Option, type Command } from 'commander';
import { UsageError } from '../common/errors.js';
import { durationOption, integerOption } from '../common/options.js';
import type { ReconnectPolicy } from './connection-state.js';
import { DEFAULT_RECONNECT } from './connection-state.js';

export type ProtocolChoice = 'udp' | 'tcp' | 'both';
export const PROTOCOLS: readonly ProtocolChoice[] = ['udp', 'tcp', 'both'];

export interface ProtocolFlags {
  protocol: ProtocolChoice;
  reconnect?: boolean;
  reconnectAttempts: number;
  reconnectBackoff: number;
}

export function addProtocolOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--protocol <udp|tcp|both>', 'udp: one socket per session; tcp: one long-lived connection per session; both: UDP and TCP sessions side by side, reported apart')
        .env('PROTOCOL')
        .choices(PROTOCOLS)
        .default('udp'),
    )
    .addOption(new Option('--reconnect', 'TCP: reconnect a lost connection after a short back-off (default: on; env: RECONNECT=true|false)'))
    .addOption(new Option('--no-reconnect', 'TCP: leave a lost connection down'))
    .addOption(
      new Option('--reconnect-attempts <n>', 'TCP: attempts in a row that do not serve before a session gives up')
        .env('RECONNECT_ATTEMPTS')
        .default(DEFAULT_RECONNECT.maxAttempts)
        .argParser(integerOption(1)),
    )
    .addOption(
      new Option('--reconnect-backoff <duration>', 'TCP: wait this long before reconnecting, doubled per failed attempt up to 32 times')
        .env('RECONNECT_BACKOFF')
        .default(DEFAULT_RECONNECT.backoffMs, '100ms')
        .argParser(durationOption),
    );
}

/** The flag wins, then RECONNECT, then on. */
export function reconnectPolicyOf(flags: ProtocolFlags, env: NodeJS.ProcessEnv): ReconnectPolicy {
  let enabled = flags.reconnect;
  if (enabled === undefined) {
    const raw = env.RECONNECT?.trim().toLowerCase();
    if (raw === undefined || raw === '' || ['1', 'true', 'yes', 'on'].includes(raw)) enabled = true;
    else if (['0', 'false', 'no', 'off'].includes(raw)) enabled = false;
    else throw new UsageError(`RECONNECT=${env.RECONNECT}: expected true or false`);
  }
  return { enabled, maxAttempts: flags.reconnectAttempts, backoffMs: flags.reconnectBackoff };
}

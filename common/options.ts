// Parsers for command-line values, shared by every subcommand. Each throws UsageError with a
// message that names the flag, so commander prints one line and we exit 2.
import { InvalidArgumentError } from 'commander';
import { parseDuration } from './duration.js';

export function portOption(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  }
  return port;
}

export function integerOption(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

export function numberOption(min: number, max = Number.MAX_VALUE): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}.`);
    }
    return n;
  };
}

export function durationOption(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 200ms, 10s, 5m or 1h.');
  return ms;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

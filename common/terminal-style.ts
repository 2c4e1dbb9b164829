// Colour for human lines, decided once at the edge: only on a TTY, never with NO_COLOR
// (https://no-color.org: set to anything non-empty), forced with FORCE_COLOR. chalk 5 alone
// ignores NO_COLOR, so we choose the level ourselves.
import { Chalk, type ChalkInstance } from 'chalk';

export function colourEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export function terminalStyle(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  return new Chalk({ level: colourEnabled(stream, env) ? 1 : 0 });
}

// Where the client sends: HOST[:PORT], [IPv6]:PORT, a bare IPv6 address, or a host name that
// DNS resolves. Parsing is pure; resolution is the one I/O step, kept apart.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { SetupError } from '../common/errors.js';
import { formatEndpoint } from '../common/ip-address.js';

/** The IANA port for STUN (RFC 8489 section 18.6), used when the target names none. */
export const DEFAULT_STUN_PORT = 3478;

export interface TargetSpec {
  host: string;
  port: number;
}

export interface ResolvedTarget extends TargetSpec {
  address: string;
  family: 4 | 6;
  /** `address:port` or `[v6]:port`. */
  endpoint: string;
}

export type TargetParse = { ok: true; target: TargetSpec } | { ok: false; reason: string };

/** Parses `host:port`, `[v6]:port`, `host`, or a bare IPv6 address (port 3478 when none is given). */
export function parseTarget(text: string): TargetParse {
  const value = text.trim();
  if (value === '') return { ok: false, reason: 'the target is empty; expected HOST:PORT' };
  let host: string;
  let portText: string | undefined;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close === -1) return { ok: false, reason: `"${text}" has "[" without "]"; expected [IPv6]:PORT` };
    host = value.slice(1, close);
    const rest = value.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return { ok: false, reason: `"${text}": expected [IPv6]:PORT` };
    portText = rest === '' ? undefined : rest.slice(1);
    if (isIP(host) !== 6) return { ok: false, reason: `"${host}" in brackets is not an IPv6 address` };
  } else if (isIP(value) === 6) {
    host = value;
  } else {
    const colon = value.lastIndexOf(':');
    if (colon !== -1 && value.indexOf(':') !== colon) {
      return { ok: false, reason: `"${text}" is not an IPv6 address; write IPv6 with a port as [ADDRESS]:PORT` };
    }
    host = colon === -1 ? value : value.slice(0, colon);
    portText = colon === -1 ? undefined : value.slice(colon + 1);
  }
  if (host === '') return { ok: false, reason: `"${text}" has no host` };
  let port = DEFAULT_STUN_PORT;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
      return { ok: false, reason: `"${portText}" in "${text}" is not a port from 1 to 65535` };
    }
  }
  return { ok: true, target: { host, port } };
}

/** The target from --target, or from TARGET_ADDR and TARGET_PORT (the names in env.list). */
export function targetFrom(flag: string | undefined, env: NodeJS.ProcessEnv): TargetParse | undefined {
  if (flag !== undefined && flag !== '') return parseTarget(flag);
  const address = env.TARGET_ADDR?.trim();
  if (address === undefined || address === '') return undefined;
  const port = env.TARGET_PORT?.trim();
  if (port === undefined || port === '') return parseTarget(isIP(address) === 6 ? `[${address}]` : address);
  return parseTarget(isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`);
}

/** Resolves the host with the system resolver (so /etc/hosts works); SetupError('target-unresolved') when it cannot. */
export async function resolveTarget(target: TargetSpec): Promise<ResolvedTarget> {
  const literal = isIP(target.host);
  if (literal !== 0) {
    return { ...target, address: target.host, family: literal as 4 | 6, endpoint: formatEndpoint(target.host, target.port) };
  }
  try {
    const { address, family } = await lookup(target.host);
    return { ...target, address, family: family === 6 ? 6 : 4, endpoint: formatEndpoint(address, target.port) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new SetupError('target-unresolved', `cannot resolve the target host "${target.host}" (${code}); check --target or TARGET_ADDR`);
  }
}

import t from 'tap';
import { Command } from 'commander';
import { addProtocolOptions, reconnectPolicyOf, type ProtocolFlags } from '../../client/protocol-options.js';

function parse(argv: string[], env: NodeJS.ProcessEnv = {}): ProtocolFlags {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const command = addProtocolOptions(new Command().exitOverride());
    command.parse(argv, { from: 'user' });
    return command.opts<ProtocolFlags>();
  } finally {
    for (const key of Object.keys(env)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

t.test('the defaults: udp, reconnect on, 10 attempts, 100 ms back-off', async (t) => {
  const flags = parse([]);
  t.equal(flags.protocol, 'udp');
  t.same(reconnectPolicyOf(flags, {}), { enabled: true, maxAttempts: 10, backoffMs: 100 });
});

t.test('flags and environment variables set the protocol and the policy; --no-reconnect wins over RECONNECT', async (t) => {
  const flags = parse(['--reconnect-attempts', '3', '--reconnect-backoff', '2s'], { PROTOCOL: 'both' });
  t.equal(flags.protocol, 'both');
  t.same(reconnectPolicyOf(flags, { RECONNECT: 'false' }), { enabled: false, maxAttempts: 3, backoffMs: 2000 });
  t.equal(reconnectPolicyOf(parse(['--no-reconnect']), { RECONNECT: 'true' }).enabled, false);
  t.equal(reconnectPolicyOf(parse(['--reconnect']), { RECONNECT: 'off' }).enabled, true);
});

t.test('a bad --protocol or RECONNECT is a one-line error', async (t) => {
  t.throws(() => parse(['--protocol', 'sctp']), /argument 'sctp' is invalid/);
  t.throws(() => reconnectPolicyOf(parse([]), { RECONNECT: 'maybe' }), { name: 'UsageError', message: 'RECONNECT=maybe: expected true or false' });
});

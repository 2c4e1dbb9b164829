import t from 'tap';
import { Command } from 'commander';
import { addGateOptions, type GateFlags } from '../../client/gate-options.js';

const parse = (argv: string[]): GateFlags => addGateOptions(new Command().exitOverride()).parse(argv, { from: 'user' }).opts<GateFlags>();

t.test('without --until-stable there is no gate; the tries default to 10, 15 s apart', async (t) => {
  t.same(parse([]), { maxTries: 10, retryWait: 15_000 });
});

t.test('--until-stable, --max-tries and --retry-wait take durations and a count', async (t) => {
  t.same(parse(['--until-stable', '30s', '--max-tries', '3', '--retry-wait', '500ms']), { untilStable: 30_000, maxTries: 3, retryWait: 500 });
  t.throws(() => parse(['--max-tries', '0']));
});

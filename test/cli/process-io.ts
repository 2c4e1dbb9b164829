import t from 'tap';
import { processIo } from '../../cli/process-io.js';

t.test('processIo() is the real process: its environment, and setExitCode sets process.exitCode', async (t) => {
  const saved = process.exitCode;
  t.teardown(() => {
    process.exitCode = saved;
  });
  const io = processIo();
  t.equal(io.env, process.env);
  t.equal(io.isTTY, process.stdout.isTTY === true);
  t.equal(io.errIsTTY, process.stderr.isTTY === true);
  io.setExitCode(3);
  t.equal(process.exitCode, 3);
});

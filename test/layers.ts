// The house's floors: client/, kube/ and server/ are peers over common/; demo/,
// bench/ and cli/ compose them. A file that reaches across (client/live-view.ts once imported
// server/http.ts) fails here with its name and the module it reached for.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import t from 'tap';
import { PACKAGE_ROOT } from '../common/version.js';

/** What each top-level directory must never load, statically or with import(). */
const FORBIDDEN: Record<string, readonly string[]> = {
  common: ['client', 'server', 'kube', 'demo', 'cli', 'report', 'bench'],
  client: ['server', 'demo', 'cli', 'bench'],
  server: ['client', 'kube', 'demo', 'cli', 'report', 'bench'],
  kube: ['client', 'server', 'demo', 'cli', 'bench'],
};

/**
 * The top-level directories a source file's relative module specifiers point into. Every quoted
 * relative `.js` path counts, so a module name kept in a constant for a lazy import() is caught too.
 */
function directoriesReached(file: string, source: string): string[] {
  const reached: string[] = [];
  for (const [, specifier] of source.matchAll(/['"](\.\.?\/[^'"\s]*\.js)['"]/g)) {
    const target = relative(PACKAGE_ROOT, resolve(dirname(join(PACKAGE_ROOT, file)), specifier!));
    reached.push(target.split('/')[0]!);
  }
  return reached;
}

function sourcesUnder(directory: string): string[] {
  return readdirSync(join(PACKAGE_ROOT, directory), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
    .map((name) => join(directory, name));
}

t.test('directoriesReached() finds static imports, re-exports, import() and module names in constants', async (t) => {
  const source = [
    "import { a } from './session.js';",
    "import type { B } from '../server/http.js';",
    "export { c } from '../common/format.js';",
    "const { d } = await import('../demo/run-demo.js');",
    "const MODULE = '../kube/cluster-watch.js';",
    "import { e } from 'node:fs';",
  ].join('\n');
  t.same(directoriesReached('client/run.ts', source), ['client', 'server', 'common', 'demo', 'kube']);
});

for (const [directory, forbidden] of Object.entries(FORBIDDEN)) {
  t.test(`no file under ${directory}/ imports from ${forbidden.join('/, ')}/`, async (t) => {
    const files = sourcesUnder(directory);
    t.ok(files.length > 0, `${directory}/ has sources`);
    const crossings = files.flatMap((file) =>
      directoriesReached(file, readFileSync(join(PACKAGE_ROOT, file), 'utf8'))
        .filter((reached) => forbidden.includes(reached))
        .map((reached) => `${file} -> ${reached}/`),
    );
    t.same(crossings, []);
  });
}

// The package version, read from package.json so that SOFTWARE and --version never disagree
// with what was installed. Works from the sources (tests) and from dist/ (the installed bin).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageJson(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export const PACKAGE_ROOT = dirname(findPackageJson());
export const VERSION: string = JSON.parse(readFileSync(findPackageJson(), 'utf8')).version;
/** The SOFTWARE attribute our server sends. */
export const SOFTWARE = `affinity-tester/${VERSION}`;

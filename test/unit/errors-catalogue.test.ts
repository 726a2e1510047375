/**
 * The error catalogue walked as a catalogue: every code of src/errors.ts is raised somewhere in the
 * service and documented, with its status, in the README's error table; no code sits unused.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ERRORS, type ErrorCode } from '../../src/errors.js';
import { projectRoot } from '../../src/paths.js';

const root = projectRoot();

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const sources = sourceFiles(join(root, 'src'))
  .filter((file) => !file.endsWith(join('src', 'errors.ts')))
  .map((file) => readFileSync(file, 'utf8'))
  .join('\n');

/** README rows of the error table: `| 404 | `UNKNOWN_SERVICE` / `NOT_FOUND` | … |`. */
const readmeRows = readFileSync(join(root, 'README.md'), 'utf8')
  .split('\n')
  .filter((line) => /^\| \d{3} \| `[A-Z_]+`/.test(line));

const codes = Object.keys(ERRORS) as ErrorCode[];

describe('the error catalogue', () => {
  it('has codes to walk (README table found)', () => {
    expect(codes.length).toBeGreaterThan(5);
    expect(readmeRows.length).toBeGreaterThan(5);
  });

  it.each(codes)('%s is raised somewhere in src/', (code) => {
    expect(sources).toMatch(new RegExp(`'${code}'`));
  });

  it.each(codes)('%s is in the README error table with its status', (code) => {
    const row = readmeRows.find((line) => line.includes(`\`${code}\``));
    expect(row ?? `${code}: no README row`).toMatch(new RegExp(`^\\| ${ERRORS[code].status} \\|`));
  });

  it('documents no code the catalogue does not have', () => {
    const documented = readmeRows.flatMap((line) => [...(line.split('|')[2] ?? '').matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]));
    expect(documented.filter((code) => !(code !== undefined && code in ERRORS))).toEqual([]);
  });
});

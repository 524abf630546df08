/**
 * Each profile is one complete object: every behaviour reads a field of it, and
 * the source never asks a profile for its name to decide anything (issue 11).
 * The name is read only for display (the otel attribute, messages naming it).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILES } from 'tessera-auth';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('profiles', () => {
  it('no source file branches on a profile name', () => {
    const branches: string[] = [];
    for (const file of sources(SRC)) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        // profile.name compared or switched on, or a profile (or its name) compared with a name.
        if (
          /profile\.name\s*[!=]==|switch\s*\([^)]*profile\.name/.test(line) ||
          /\bprofile(Name)?\s*[!=]==\s*'(standard|flask-jwt-extended|simplejwt)'/.test(line)
        ) {
          branches.push(`${file.slice(SRC.length + 1)}:${i + 1}: ${line.trim()}`);
        }
      });
    }
    expect(branches).toEqual([]);
  });

  it('the built-in profiles define the same fields, each frozen', () => {
    const [first, ...rest] = Object.values(PROFILES);
    for (const profile of rest) expect(Object.keys(profile).sort()).toEqual(Object.keys(first!).sort());
    for (const profile of Object.values(PROFILES)) expect(Object.isFrozen(profile)).toBe(true);
  });

  it('only the standard profile words errors from the catalogs', () => {
    expect(Object.fromEntries(Object.entries(PROFILES).map(([name, p]) => [name, p.errorText]))).toEqual({
      standard: 'catalog',
      'flask-jwt-extended': 'python',
      simplejwt: 'python',
    });
  });
});

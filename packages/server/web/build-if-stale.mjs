// `npm start`'s prestart: build the console only when a source file is newer
// than the last build, so a start with an up-to-date build costs one directory
// walk (a few ms) instead of a vite build (about 2.5 s).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('.', import.meta.url));
const built = join(web, 'dist', 'index.html');

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const sources = ['src', 'index.html', 'vite.config.ts'].map((name) => join(web, name));
if (!existsSync(built) || Math.max(...sources.map(newest)) > statSync(built).mtimeMs) {
  const vite = fileURLToPath(new URL('../../../node_modules/.bin/vite', import.meta.url));
  execFileSync(vite, ['build', web], { stdio: 'inherit' });
}

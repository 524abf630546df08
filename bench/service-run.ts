/**
 * The `--only service` part of `npm run bench`: the comparison with better-auth
 * (bench/service.ts) or, with `--soak`, the 10-minute soak; prints markdown and
 * writes the JSON under bench/results/.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderService, renderSoak, runService, runSoak } from './service.js';

interface Flags {
  readonly duration?: string | undefined;
  readonly 'no-write'?: boolean | undefined;
  readonly soak?: boolean | undefined;
  readonly 'soak-minutes'?: string | undefined;
  readonly databases?: string | undefined;
  readonly rounds?: string | undefined;
}

function databases(value: string | undefined): ('sqlite' | 'postgres')[] {
  const list = (value ?? 'sqlite,postgres').split(',').map((d) => d.trim());
  for (const d of list) {
    if (d !== 'sqlite' && d !== 'postgres') throw new Error(`--databases: unknown ${d}; use sqlite,postgres`);
  }
  return list as ('sqlite' | 'postgres')[];
}

function positive(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}

/** Runs the service benchmark the flags ask for; returns its markdown. */
export async function runServiceBench(
  flags: Flags,
  resultsDir: string,
  stamp: string,
  machine: unknown,
  log: (line: string) => void,
): Promise<string> {
  const write = (name: string, data: unknown) => {
    if (flags['no-write']) return;
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `${name}-${stamp}.json`);
    writeFileSync(file, `${JSON.stringify({ machine, ...(data as object) }, null, 2)}\n`);
    log(`wrote ${file}`);
  };
  if (flags.soak) {
    const minutes = positive(flags['soak-minutes'], 'soak-minutes', 10);
    const db = databases(flags.databases)[0] ?? 'sqlite';
    const soak = await runSoak(minutes, db, log);
    write('service-soak', { minutes, database: db, ...soak });
    return `## Service soak (${minutes} min, ${db})\n\n${soak.notes.join('; ')}\n\n${renderSoak(soak.samples)}`;
  }
  const report = await runService(
    {
      durationSeconds: positive(flags.duration, 'duration', 5),
      databases: databases(flags.databases),
      timingSamples: 40,
      rounds: flags.rounds === undefined ? 5 : Math.floor(positive(flags.rounds, 'rounds', 5)),
    },
    log,
  );
  write('service', report);
  return `## Service against better-auth (${report.seconds.toFixed(0)} s)\n\n${renderService(report)}`;
}

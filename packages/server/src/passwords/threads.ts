/**
 * The threads password work runs on: a few worker threads of our own, each
 * lowered in scheduling priority (a higher nice value) below the event loop.
 *
 * Why not the libuv threadpool, where @node-rs/argon2 and node:crypto's
 * asynchronous functions would put it: on a machine with fewer free cores than
 * running hashes, a hash thread and the event loop share a core as equals, so
 * 50 connections signing in halve what the event loop answers to every request
 * that only verifies or refreshes a token (measured: /auth/me fell to 33–53% of
 * its idle throughput). Those requests are the service's real work, and the
 * hash is the one thing that can wait: at nice +10 a hash thread gets about a
 * tenth of a shared core while the event loop wants it, and all of a core that
 * is otherwise idle, so sign-ins slow down only while the core is saturated.
 * libuv's threads cannot be told apart (libuv 1.46 does not name them) and are
 * shared with file and DNS work, hence threads of our own, which set their own
 * priority from inside (Linux: `setpriority` on the thread id; elsewhere the
 * threads keep the process's priority).
 *
 * The worker's code is a small CommonJS program evaluated from a string, so that
 * it runs the same from the TypeScript sources (tests) and the built JavaScript;
 * it is handed the resolved path of @node-rs/argon2.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Argon2Cost } from './argon2.js';
import type { Pbkdf2Digest } from './kdf.js';

/** One piece of password work, run synchronously inside a thread. */
export type HashJob =
  | {
      readonly op: 'argon2-hash';
      readonly password: string;
      readonly cost: Argon2Cost;
      readonly outputLen: number;
    }
  | { readonly op: 'argon2-verify'; readonly encoded: string; readonly password: string }
  | {
      readonly op: 'pbkdf2';
      readonly password: string;
      readonly salt: string;
      readonly iterations: number;
      readonly keyBytes: number;
      readonly digest: Pbkdf2Digest;
    }
  | {
      readonly op: 'scrypt';
      readonly password: string;
      readonly salt: string;
      readonly n: number;
      readonly r: number;
      readonly p: number;
      readonly keyBytes: number;
    };

/** What each job answers. */
export interface HashResults {
  'argon2-hash': string;
  'argon2-verify': boolean;
  pbkdf2: Uint8Array;
  scrypt: Uint8Array;
}

/** Options of {@link HashThreads}. */
export interface HashThreadOptions {
  /** Threads, at most; they start on first use. */
  readonly size: number;
  /** Added to the process's nice value for each thread (0 to 19); 0 keeps the process's priority. */
  readonly nice: number;
}

const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const argon2 = require(workerData.argon2);

let nice = null;
if (workerData.nice > 0) {
  try {
    // Linux: /proc/thread-self names this thread's id; setpriority on it moves this thread alone.
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    os.setPriority(tid, Math.min(19, os.getPriority(tid) + workerData.nice));
    nice = os.getPriority(tid);
  } catch {
    nice = null;
  }
}

function run(job) {
  switch (job.op) {
    case 'argon2-hash':
      return argon2.hashSync(job.password, {
        algorithm: 2,
        memoryCost: job.cost.memoryCost,
        timeCost: job.cost.timeCost,
        parallelism: job.cost.parallelism,
        outputLen: job.outputLen,
      });
    case 'argon2-verify':
      try {
        return argon2.verifySync(job.encoded, job.password);
      } catch {
        return false;
      }
    case 'pbkdf2':
      return crypto.pbkdf2Sync(Buffer.from(job.password, 'utf8'), Buffer.from(job.salt, 'utf8'),
        job.iterations, job.keyBytes, job.digest);
    case 'scrypt':
      // OpenSSL wants a little more than 128·N·r; Python's hashlib callers pass 132·N·r·p.
      return crypto.scryptSync(Buffer.from(job.password, 'utf8'), Buffer.from(job.salt, 'utf8'), job.keyBytes,
        { N: job.n, r: job.r, p: job.p, maxmem: 132 * job.n * job.r * job.p + 1024 * 1024 });
    default:
      throw new Error('unknown password job');
  }
}

parentPort.on('message', (message) => {
  try {
    parentPort.postMessage({ id: message.id, result: run(message.job) });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});
parentPort.postMessage({ ready: true, nice });
`;

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

interface Thread {
  readonly worker: Worker;
  readonly ready: Promise<number | null>;
  job: { readonly id: number; readonly pending: Pending } | undefined;
}

type Queued = { readonly job: HashJob; readonly pending: Pending };

let argon2Path: string | undefined;

/** A fixed set of lowered-priority threads running {@link HashJob}s, one at a time each. */
export class HashThreads {
  readonly size: number;
  readonly nice: number;
  readonly #threads: Thread[] = [];
  readonly #queue: Queued[] = [];
  #nextId = 0;
  #closed = false;

  constructor(options: HashThreadOptions) {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new RangeError('size must be a positive integer');
    if (!Number.isInteger(options.nice) || options.nice < 0 || options.nice > 19) {
      throw new RangeError('nice must be an integer from 0 to 19');
    }
    this.size = options.size;
    this.nice = options.nice;
  }

  /**
   * Starts every thread and resolves once they can take work, to the nice value
   * each runs at (null where the platform lets a thread not change its own).
   * Optional: the first job starts a thread too, and pays for it.
   */
  async start(): Promise<(number | null)[]> {
    while (this.#threads.length < this.size && !this.#closed) this.#spawn();
    return Promise.all(this.#threads.map((t) => t.ready));
  }

  /** Runs one job on a free thread, or after the ones queued before it. */
  run<K extends HashJob['op']>(job: Extract<HashJob, { op: K }>): Promise<HashResults[K]> {
    if (this.#closed) return Promise.reject(new Error('password threads are closed'));
    return new Promise<HashResults[K]>((resolve, reject) => {
      this.#queue.push({ job, pending: { resolve: resolve as (value: unknown) => void, reject } });
      this.#dispatch();
    });
  }

  /** Ends the threads: idle ones now, busy ones once their job is answered. */
  close(): void {
    this.#closed = true;
    for (const { pending } of this.#queue.splice(0)) pending.reject(new Error('password threads are closed'));
    for (const thread of this.#threads) if (thread.job === undefined) void thread.worker.terminate();
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let thread = this.#threads.find((t) => t.job === undefined);
      if (thread === undefined) {
        if (this.#threads.length >= this.size) return;
        thread = this.#spawn();
      }
      const { job, pending } = this.#queue.shift() as Queued;
      const id = this.#nextId++;
      thread.job = { id, pending };
      // Busy threads keep the process alive (a CLI awaiting a hash); idle ones do not.
      thread.worker.ref();
      thread.worker.postMessage({ id, job });
    }
  }

  #spawn(): Thread {
    argon2Path ??= createRequire(import.meta.url).resolve('@node-rs/argon2');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { argon2: argon2Path, nice: this.nice },
    });
    worker.unref();
    let markReady: (nice: number | null) => void = () => {};
    const thread: Thread = {
      worker,
      ready: new Promise((resolve) => {
        markReady = resolve;
      }),
      job: undefined,
    };
    worker.on(
      'message',
      (message: { ready?: true; nice?: number | null; id?: number; result?: unknown; error?: string }) => {
        if (message.ready === true) {
          markReady(message.nice ?? null);
          return;
        }
        const current = thread.job;
        if (current === undefined || current.id !== message.id) return;
        thread.job = undefined;
        worker.unref();
        if (message.error === undefined) current.pending.resolve(message.result);
        else current.pending.reject(new Error(message.error));
        if (this.#closed) void worker.terminate();
        else this.#dispatch();
      },
    );
    // A thread that dies (out of memory in native code, a crash) fails its job; the next job gets a new thread.
    const lost = (error: Error) => {
      const index = this.#threads.indexOf(thread);
      if (index >= 0) this.#threads.splice(index, 1);
      markReady(null);
      const current = thread.job;
      thread.job = undefined;
      current?.pending.reject(error);
      if (!this.#closed) this.#dispatch();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`password thread exited with code ${code}`)));
    this.#threads.push(thread);
    return thread;
  }
}

/** The nice value added to password threads unless configured otherwise. */
export const DEFAULT_PASSWORD_NICE = 10;

let current: HashThreads | undefined;

/** Makes `threads` the ones password work runs on, closing the previous set. */
export function usePasswordThreads(threads: HashThreads): void {
  if (current !== threads) current?.close();
  current = threads;
}

/** The threads password work runs on now (one thread at the default nice until configured). */
export function passwordThreads(): HashThreads {
  current ??= new HashThreads({ size: 1, nice: DEFAULT_PASSWORD_NICE });
  return current;
}

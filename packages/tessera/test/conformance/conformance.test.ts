/**
 * Runs every row of the scenario table over real HTTP against every app
 * (the guard itself and every adapter), in both profiles. One server per
 * app × profile × distinct row config, started on first use.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { TokenManager } from '../../src/manager/token-manager.js';
import { APPS, type AppName, type RunningApp, type TestUser } from './apps.js';
import { buildManager, check, placeholders, send } from './driver.js';
import { type ConfigOverrides, PROFILES, SCENARIOS } from './scenarios.js';

// ---------------------------------------------------------------------------

const APP_NAMES = Object.keys(APPS) as AppName[];

for (const appName of APP_NAMES) {
  for (const profile of PROFILES) {
    describe(`${appName} / ${profile}`, () => {
      const servers = new Map<string, Promise<{ app: RunningApp; manager: TokenManager<TestUser> }>>();

      function server(config: ConfigOverrides | undefined) {
        const key = JSON.stringify(config ?? {});
        let entry = servers.get(key);
        if (entry === undefined) {
          entry = (async () => {
            const manager = buildManager(profile, config);
            return { app: await APPS[appName](manager), manager };
          })();
          servers.set(key, entry);
        }
        return entry;
      }

      afterAll(async () => {
        const started = await Promise.allSettled(servers.values());
        await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.app.close() : undefined)));
      });

      for (const row of SCENARIOS) {
        const label = `${row.id}${row.pyCase ? ` (${row.pyCase})` : ''} ${row.title}`;
        it(label, async () => {
          const { app, manager } = await server(row.config);
          const ph = await placeholders(manager, row.request);
          const answer = await send(app.url, row, ph);
          const framework = row.frameworkAnswers?.[appName];
          if (framework !== undefined) {
            expect(answer.status, framework.reason).toBe(framework.status);
            expect(answer.status).toBeGreaterThanOrEqual(400);
            expect(answer.status).toBeLessThan(500);
            return;
          }
          await check(answer, row.expect[profile], manager, `${appName} / ${profile} / ${row.id}`);
        });
      }
    });
  }
}

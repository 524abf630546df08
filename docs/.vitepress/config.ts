/**
 * The Tessera docs site (VitePress). Everything is served from the site itself: no CDN,
 * no web fonts from elsewhere, no analytics; search is VitePress's local index.
 * Dead links fail the build (ignoreDeadLinks stays off): packages/tessera/test/docs/site.test.ts
 * builds the site in `npm test`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type DefaultTheme, defineConfig } from 'vitepress';
import { generatedPublicDir } from './paths.js';

const docsDir = fileURLToPath(new URL('../', import.meta.url));

/** Pages other parts of the project write land at their own pace: list them once they exist. */
const ifPage = (item: DefaultTheme.SidebarItem & { link: string }): DefaultTheme.SidebarItem[] =>
  existsSync(`${docsDir}${item.link.replace(/^\//, '')}.md`) ? [item] : [];

const guide: DefaultTheme.SidebarItem[] = [
  {
    text: 'Getting started',
    items: [
      { text: 'Install and first token', link: '/guide/getting-started' },
      { text: 'Express', link: '/guide/express' },
      { text: 'Fastify', link: '/guide/fastify' },
      { text: 'Hono', link: '/guide/hono' },
      { text: 'Koa', link: '/guide/koa' },
      { text: 'Fetch handlers', link: '/guide/fetch' },
      { text: 'node:http', link: '/guide/node' },
      ...ifPage({ text: 'NestJS', link: '/guide/nestjs' }),
      ...ifPage({ text: 'TypeScript', link: '/typescript' }),
    ],
  },
  {
    text: 'Tutorial',
    items: [{ text: 'The whole flow', link: '/tutorial' }],
  },
  {
    text: 'Concepts',
    items: [
      { text: 'Tokens and claims', link: '/concepts/tokens' },
      { text: 'Sessions and refresh families', link: '/concepts/sessions' },
      { text: 'Revocation across instances', link: '/concepts/revocation' },
      { text: 'Keys and JWKS', link: '/concepts/keys' },
      { text: 'Profiles', link: '/concepts/profiles' },
    ],
  },
  {
    text: 'Recipes',
    items: [
      { text: 'Key rotation', link: '/recipes/key-rotation' },
      { text: 'Password change', link: '/recipes/password-change' },
      { text: 'Rate limiting a login route', link: '/recipes/rate-limiting' },
      { text: 'API keys', link: '/recipes/api-keys' },
    ],
  },
];

const reference: DefaultTheme.SidebarItem[] = [
  {
    text: 'Reference',
    items: [
      { text: 'Errors', link: '/errors' },
      { text: 'Events and OpenTelemetry', link: '/events' },
      ...ifPage({ text: 'Runtimes', link: '/runtimes' }),
      ...ifPage({ text: 'The auth service', link: '/service' }),
      ...ifPage({ text: 'The tessera CLI', link: '/cli' }),
      { text: 'Verification policy', link: '/security' },
      { text: 'Performance', link: '/performance' },
      { text: 'Architecture', link: '/architecture' },
      { text: 'Python peers: cases', link: '/reference/python-peers' },
      { text: 'API (TypeDoc)', link: '/api/index.html', target: '_self' },
      { text: 'API: building blocks', link: '/api/core/index.html', target: '_self' },
    ],
  },
];

const migrating: DefaultTheme.SidebarItem[] = [
  {
    text: 'Migrating',
    items: [
      { text: 'From jsonwebtoken', link: '/migrating-from-jsonwebtoken' },
      { text: 'From jose', link: '/migrating-from-jose' },
      { text: 'From express-jwt', link: '/migrating-from-express-jwt' },
      { text: 'From @fastify/jwt', link: '/migrating-from-fastify-jwt' },
      { text: 'From Flask-JWT-Extended', link: '/migrating-from-flask-jwt-extended' },
      { text: 'From SimpleJWT', link: '/migrating-from-simplejwt' },
    ],
  },
];

export default defineConfig({
  title: 'Tessera',
  description: 'Token authentication for TypeScript web APIs',
  lang: 'en',
  cleanUrls: false,
  lastUpdated: false,
  // The generated API reference (api.ts) is served from here as /api/.
  vite: { publicDir: generatedPublicDir },
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/getting-started' },
      { text: 'Tutorial', link: '/tutorial' },
      { text: 'Concepts', link: '/concepts/tokens' },
      { text: 'Recipes', link: '/recipes/key-rotation' },
      { text: 'Migrating', link: '/migrating-from-jsonwebtoken' },
      { text: 'Reference', link: '/errors' },
      { text: 'API', link: '/api/index.html', target: '_self' },
    ],
    sidebar: [...guide, ...reference, ...migrating],
    search: { provider: 'local' },
    outline: { level: [2, 3] },
  },
});

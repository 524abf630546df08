/**
 * Code samples as readers meet them: ```ts blocks of the READMEs and docs/, and
 * of TSDoc comments in the library's sources. Each becomes a module of a temp
 * project that tsc checks against the package's types.
 *
 * Skipped: blocks fenced as ```ts no-check, and blocks right after an
 * `<!-- not-compiled -->` line. A TSDoc example may be a fragment: the names it
 * uses without defining (`manager`, `app`, `auth`, `User`, the module's own
 * exports...) are declared for it by a context chosen from its file, the way a
 * reader fills them in from the surrounding text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One code block. */
export interface Sample {
  /** Repo-relative path of the file it comes from. */
  readonly file: string;
  /** 1-based position of the block in its file (counting compiled blocks only). */
  readonly index: number;
  /** The line of the file where the code starts. */
  readonly line: number;
  readonly code: string;
  /** Where context names come from (`express`, `fastify`, ...; `common` for any). */
  readonly context: ContextName;
  /** For TSDoc samples: the source module, whose exports the sample may use unimported. */
  readonly module?: string;
}

/** A line of prelude that defines `name`, needing `needs` first. */
interface Definition {
  readonly code: string;
  readonly needs?: readonly string[];
}

const COMMON: Record<string, Definition> = {
  TokenManager: { code: "import { TokenManager } from 'tessera-auth';" },
  User: { code: 'interface User {\n  readonly id: string;\n  readonly name: string;\n}' },
  manager: { code: 'declare const manager: TokenManager;', needs: ['TokenManager'] },
  jwt: { code: 'declare const jwt: TokenManager;', needs: ['TokenManager'] },
  secret: { code: 'declare const secret: string;' },
  store: { code: "declare const store: import('tessera-auth').TokenStore;" },
  request: { code: 'declare const request: Request;' },
  // The framework-neutral request of fetch handlers, which the http layer's examples use.
  toRequestLike: { code: "import { toRequestLike } from 'tessera-auth/fetch';" },
  users: {
    code: 'declare const users: { check(username: string, password: string): Promise<User | undefined> };',
    needs: ['User'],
  },
};

const CONTEXTS = {
  common: {},
  express: {
    express: { code: "import express from 'express';" },
    createExpressAuth: { code: "import { createExpressAuth } from 'tessera-auth/express';" },
    app: { code: 'declare const app: express.Express;', needs: ['express'] },
    auth: { code: 'const auth = createExpressAuth(manager);', needs: ['createExpressAuth', 'manager'] },
    handler: { code: 'declare const handler: express.RequestHandler;', needs: ['express'] },
    req: { code: 'declare const req: express.Request;', needs: ['express'] },
    res: { code: 'declare const res: express.Response;', needs: ['express'] },
  },
  fastify: {
    Fastify: { code: "import Fastify from 'fastify';" },
    createFastifyAuth: { code: "import { createFastifyAuth } from 'tessera-auth/fastify';" },
    app: { code: "declare const app: import('fastify').FastifyInstance;" },
    auth: { code: 'const auth = createFastifyAuth(manager);', needs: ['createFastifyAuth', 'manager'] },
    handler: { code: "declare const handler: import('fastify').RouteHandlerMethod;" },
    request: { code: "declare const request: import('fastify').FastifyRequest;" },
    reply: { code: "declare const reply: import('fastify').FastifyReply;" },
  },
  hono: {
    Hono: { code: "import { Hono } from 'hono';" },
    createHonoAuth: { code: "import { createHonoAuth } from 'tessera-auth/hono';" },
    app: { code: 'declare const app: Hono;', needs: ['Hono'] },
    auth: { code: 'const auth = createHonoAuth(manager);', needs: ['createHonoAuth', 'manager'] },
    handler: { code: "declare const handler: import('hono').Handler;" },
    c: { code: "declare const c: import('hono').Context;" },
  },
  koa: {
    Koa: { code: "import Koa from 'koa';" },
    createKoaAuth: { code: "import { createKoaAuth } from 'tessera-auth/koa';" },
    app: { code: 'declare const app: Koa;', needs: ['Koa'] },
    auth: { code: 'const auth = createKoaAuth(manager);', needs: ['createKoaAuth', 'manager'] },
    refresh: { code: 'const refresh = auth.refresh();', needs: ['auth'] },
    handler: { code: 'declare const handler: Koa.Middleware;', needs: ['Koa'] },
    ctx: { code: 'declare const ctx: Koa.Context;', needs: ['Koa'] },
    // A router in the shape of @koa/router's, which the examples mount middleware on.
    router: {
      code: 'declare const router: Record<"get" | "post" | "put" | "delete", (path: string, ...middleware: Koa.Middleware<never>[]) => void>;',
      needs: ['Koa'],
    },
  },
  fetch: {
    createFetchAuth: { code: "import { createFetchAuth } from 'tessera-auth/fetch';" },
    auth: { code: 'const auth = createFetchAuth(manager);', needs: ['createFetchAuth', 'manager'] },
    handler: { code: 'declare const handler: (request: Request) => Promise<Response>;' },
    Bun: {
      code: 'declare const Bun: { serve(options: { fetch(request: Request): Response | Promise<Response> }): unknown };',
    },
  },
  node: {
    createServer: { code: "import { createServer } from 'node:http';" },
    createNodeAuth: { code: "import { createNodeAuth } from 'tessera-auth/node';" },
    auth: { code: 'const auth = createNodeAuth(manager);', needs: ['createNodeAuth', 'manager'] },
    req: { code: "declare const req: import('node:http').IncomingMessage;" },
    res: { code: "declare const res: import('node:http').ServerResponse;" },
    other: { code: "declare const other: import('tessera-auth/node').NodeHandler;" },
  },
  nestjs: {},
} satisfies Record<string, Record<string, Definition>>;

export type ContextName = keyof typeof CONTEXTS;

/** Every sample of the repo's READMEs, docs and library sources. */
export function collectSamples(root: string): Sample[] {
  const files = [
    'README.md',
    'packages/tessera/README.md',
    ...walk(join(root, 'docs'), '.md').map((file) => relative(root, file)),
    ...walk(join(root, 'packages/tessera/src'), '.ts').map((file) => relative(root, file)),
  ].filter((file) => !file.includes('node_modules') && !file.includes('/.vitepress/'));
  const samples: Sample[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(join(root, file), 'utf8');
    } catch {
      continue;
    }
    const context = contextOf(file);
    if (file.endsWith('.md')) samples.push(...markdownSamples(file, text, context));
    else samples.push(...tsdocSamples(file, text, context, join(root, file)));
  }
  return samples;
}

function walk(dir: string, extension: string): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name.startsWith('.') || entry.name === 'api' ? [] : walk(path, extension);
    return entry.name.endsWith(extension) ? [path] : [];
  });
}

function contextOf(file: string): ContextName {
  const name = file.split('/').pop() ?? '';
  for (const context of ['express', 'fastify', 'hono', 'koa', 'fetch', 'nestjs'] as const) {
    if (name.includes(context)) return context;
  }
  // The node:http adapter and its guide (not node-request.ts, which has no samples).
  if (name === 'node.ts' || name === 'node.md') return 'node';
  // Framework-neutral helpers document themselves with Node's request and response.
  if (/adapters\/(shared|body)\.ts$|http\/http-error\.ts$/.test(file)) return 'express';
  return 'common';
}

const FENCE = /^(\s*)```([A-Za-z]*)([^\n]*)$/;

/** The ```ts blocks of a markdown text. */
export function markdownSamples(file: string, text: string, context: ContextName): Sample[] {
  const lines = text.split('\n');
  const samples: Sample[] = [];
  let previous = '';
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (open === null) {
      if ((lines[i] ?? '').trim() !== '') previous = (lines[i] ?? '').trim();
      continue;
    }
    const [, indent = '', lang = '', info = ''] = open;
    let end = i + 1;
    while (end < lines.length && !(lines[end] ?? '').trim().startsWith('```')) end++;
    const skipped = /\bno-check\b/.test(info) || previous === '<!-- not-compiled -->';
    if (isTypeScript(lang) && !skipped) {
      const code = lines
        .slice(i + 1, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
        .join('\n');
      samples.push({ file, index: samples.length + 1, line: i + 2, code, context });
    }
    previous = '';
    i = end;
  }
  return samples;
}

/** The ```ts blocks inside the doc comments of a TypeScript source. */
export function tsdocSamples(file: string, text: string, context: ContextName, module: string): Sample[] {
  const samples: Sample[] = [];
  for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const startLine = text.slice(0, comment.index).split('\n').length;
    const lines = comment[0].split('\n').map((line) => line.replace(/^\s*\/?\*+\/?\s?/, ''));
    for (const sample of markdownSamples(file, lines.join('\n'), context)) {
      samples.push({ ...sample, index: samples.length + 1, line: startLine + sample.line - 1, module });
    }
  }
  return samples;
}

function isTypeScript(lang: string): boolean {
  return lang === 'ts' || lang === 'typescript' || lang === 'tsx';
}

/** A sample as a module of the check project, and how many lines come before its code. */
export function sampleModule(
  sample: Sample,
  exportsOf: (module: string) => readonly string[],
  entryExports: Readonly<Record<string, readonly string[]>>,
): {
  readonly text: string;
  readonly offset: number;
} {
  const code = sample.code;
  const defined = definedNames(code);
  const used = (name: string) => new RegExp(`(?<![\\w$.'"])${escapeName(name)}(?![\\w$'"])`).test(code);
  const context: Record<string, Definition> = { ...COMMON, ...CONTEXTS[sample.context] };
  const prelude: string[] = [];
  const added = new Set<string>();
  const add = (name: string): void => {
    if (added.has(name) || defined.has(name)) return;
    added.add(name);
    const definition = context[name];
    if (definition === undefined) return;
    for (const need of definition.needs ?? []) add(need);
    prelude.push(definition.code);
  };
  // The module's own exports first: an example in express.ts means its createExpressAuth.
  if (sample.module !== undefined) {
    const own = exportsOf(sample.module).filter((name) => used(name) && !defined.has(name));
    if (own.length > 0) {
      prelude.push(`import { ${own.join(', ')} } from '${sample.module.replace(/\.ts$/, '.js')}';`);
      for (const name of own) added.add(name);
    }
  }
  for (const name of Object.keys(context)) if (used(name)) add(name);
  // Anything else the package's entry points export, as a reader would import it.
  for (const [entry, names] of Object.entries(entryExports)) {
    const wanted = names.filter((name) => used(name) && !defined.has(name) && !added.has(name));
    if (wanted.length === 0) continue;
    for (const name of wanted) added.add(name);
    prelude.unshift(`import { ${wanted.join(', ')} } from '${entry}';`);
  }
  // A fragment with a top-level `return` is the body of a handler.
  const body = /^(if \(.*\) )?return\b/m.test(code) ? `export async function sample() {\n${code}\n}` : code;
  const offset = prelude.length === 0 ? 0 : prelude.join('\n').split('\n').length;
  const wrapped = body === code ? 0 : 1;
  return { text: `${[...prelude, body].join('\n')}\nexport {};\n`, offset: offset + wrapped };
}

/** Names a block declares or imports itself. */
function definedNames(code: string): Set<string> {
  const names = new Set<string>();
  for (const m of code.matchAll(
    /\b(?:const|let|var|function|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/g,
  )) {
    names.add(m[1] as string);
  }
  for (const m of code.matchAll(/\b(?:const|let|var)\s*[{[]([^}\]=]*)[}\]]/g)) {
    for (const part of (m[1] as string).split(',')) {
      const name = part.split(':').pop()?.trim();
      if (name) names.add(name);
    }
  }
  for (const m of code.matchAll(/\bimport\s+(?:type\s+)?([^;]*?)\s+from\s/g)) {
    for (const name of (m[1] as string).matchAll(/[A-Za-z_$][\w$]*/g)) names.add(name[0]);
  }
  return names;
}

/** The names a source module exports (declarations and export lists). */
export function exportedNames(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(
    /^export\s+(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:function\*?|const|let|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm,
  )) {
    names.add(m[1] as string);
  }
  for (const m of text.matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const part of (m[1] as string).split(',')) {
      const name = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop()
        ?.trim();
      if (name) names.add(name);
    }
  }
  return [...names];
}

function escapeName(text: string): string {
  return text.replace(/[$]/g, '\\$&');
}

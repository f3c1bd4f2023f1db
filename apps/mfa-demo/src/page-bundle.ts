/**
 * Bundles the demo page (src/page/app.ts) for the browser with esbuild. `@milagro/<pkg>[/<entry>]`
 * imports resolve to the workspace sources when they are present (a checkout), else through
 * node_modules (an installed package), so the page never runs a stale build.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../../..');

const workspaceSources: Plugin = {
  name: 'milagro-workspace-sources',
  setup(context) {
    context.onResolve({ filter: /^@milagro\/[a-z0-9-]+(\/[a-z0-9-]+)?$/ }, (args) => {
      const [, name, entry] = /^@milagro\/([a-z0-9-]+)(?:\/([a-z0-9-]+))?$/.exec(args.path) as RegExpExecArray;
      const source = join(REPO, 'packages', name as string, 'src', entry === undefined ? 'index.ts' : join(entry, 'index.ts'));
      return existsSync(source) ? { path: source } : undefined;
    });
  },
};

/** The page's script, minified: one IIFE for `<script src="/app.js">`. */
export async function bundlePage(): Promise<string> {
  const entry = [join(HERE, 'page', 'app.ts'), join(HERE, '..', 'src', 'page', 'app.ts')].find((path) => existsSync(path));
  if (entry === undefined) throw new Error('the demo page source (src/page/app.ts) is missing');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    plugins: [workspaceSources],
    nodePaths: [join(REPO, 'node_modules')],
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

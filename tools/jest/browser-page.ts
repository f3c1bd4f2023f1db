/**
 * Headless Chromium for browser tests: bundles a test entry with esbuild (IIFE, browser platform,
 * workspace packages aliased to their sources, never a possibly stale dist/), serves it from a
 * local HTTP server on 127.0.0.1 (a secure context, so WebCrypto runs) and opens it in a fresh
 * profile through playwright-core.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** The Debian package's binary; tools/system-deps.txt installs it in CI. */
export const CHROMIUM = '/usr/bin/chromium';
const ROOT = resolve(__dirname, '../..');

/** `describe` when Chromium is installed, else `describe.skip` with a warning naming the suite. */
export function describeInChromium(name: string, body: () => void): void {
  if (existsSync(CHROMIUM)) {
    describe(name, body);
    return;
  }
  console.warn(`${name}: skipped, ${CHROMIUM} is missing`);
  describe.skip(name, body);
}

/** A page running the bundle, the page errors seen so far, and how to shut everything down. */
export interface BundlePage {
  readonly page: Page;
  readonly errors: string[];
  close(): Promise<void>;
}

/**
 * Bundles `entry` and opens it in headless Chromium; resolves once `globalThis[ready]` is set.
 * @param packages workspace package names (e.g. `crypto`) whose `@milagro/<name>` imports resolve to sources.
 */
export async function openBundlePage(entry: string, packages: readonly string[], ready: string): Promise<BundlePage> {
  const bundle = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    alias: Object.fromEntries(packages.map((name) => [`@milagro/${name}`, join(ROOT, 'packages', name, 'src/index.ts')])),
    nodePaths: [join(ROOT, 'node_modules')],
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0]!.text;
  const server: Server = createServer((req, res) => {
    if (req.url === '/bundle.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script src="/bundle.js"></script>');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  const userDataDir = mkdtempSync(join(tmpdir(), 'milagro-chromium-'));
  let browser: BrowserContext | undefined;
  const close = async (): Promise<void> => {
    await browser?.close();
    await new Promise((done) => server.close(done));
    rmSync(userDataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };
  try {
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage();
    page.setDefaultTimeout(120_000); // generous: CI machines can be heavily loaded
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForFunction((name) => (globalThis as Record<string, unknown>)[name] !== undefined, ready);
    return { page, errors, close };
  } catch (error) {
    await close();
    throw error;
  }
}

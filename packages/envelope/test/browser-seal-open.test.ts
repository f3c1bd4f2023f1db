/**
 * Browser interoperability: a headless Chromium seals an envelope that Node opens, and opens one
 * that Node sealed. The page runs an esbuild IIFE bundle of browser-entry.ts served from a local
 * HTTP server on 127.0.0.1 (so WebCrypto runs in a secure context). Skipped only when
 * /usr/bin/chromium is missing.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type BrowserContext } from 'playwright-core';
import { bytesToHex, hexToBytes } from '@milagro/crypto';
import { encodeEnvelope, openEnvelope, sealEnvelope } from '../src/index.js';
import { testRecipient, testSender } from './identities.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) console.warn(`browser-seal-open: skipped, ${CHROMIUM} is missing`);
const maybe = available ? describe : describe.skip;

maybe('envelopes between a browser and Node', () => {
  let server: Server;
  let browser: BrowserContext;
  let userDataDir: string;
  let url: string;

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [join(__dirname, 'browser-entry.ts')],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      write: false,
      // The sources under test, not a possibly stale dist/ of the workspace package.
      alias: { '@milagro/crypto': join(__dirname, '../../crypto/src/index.ts') },
      nodePaths: [join(__dirname, '../../../node_modules')],
      logLevel: 'silent',
    });
    const script = bundle.outputFiles[0]!.text;
    server = createServer((req, res) => {
      if (req.url === '/bundle.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      } else {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script src="/bundle.js"></script>');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
    userDataDir = mkdtempSync(join(tmpdir(), 'envelope-chromium-'));
    // A fresh profile per run; playwright takes it as launchPersistentContext's first argument.
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  test('sealed in the page, opened in Node; sealed in Node, opened in the page', async () => {
    const page = await browser.newPage();
    page.setDefaultTimeout(120_000); // generous: CI machines can be heavily loaded
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as { envelopeTest?: unknown }).envelopeTest !== undefined);

    const runtime = await page.evaluate(() =>
      (globalThis as unknown as { envelopeTest: { runtime(): { userAgent: string; hasProcess: boolean } } }).envelopeTest.runtime(),
    );
    expect(runtime.userAgent).toMatch(/Chrome/);
    expect(runtime.hasProcess).toBe(false);

    const alice = testSender('alice');
    const bob = testRecipient('bob');
    const fromPage = await page.evaluate(() => (globalThis as unknown as { envelopeTest: { seal(): Promise<string> } }).envelopeTest.seal());
    const opened = await openEnvelope(hexToBytes(fromPage), { sender: alice.publicKey, recipient: bob.key });
    expect(new TextDecoder().decode(opened.body)).toBe('sealed in the browser'.repeat(4000));

    const body = new TextEncoder().encode('sealed in node');
    const envelope = encodeEnvelope(await sealEnvelope({ from: alice.signer, to: [bob.publicKey], type: 'milagro/test/note', chunkSize: 1024, body }));
    const text = await page.evaluate(
      (hex) => (globalThis as unknown as { envelopeTest: { open(hex: string): Promise<string> } }).envelopeTest.open(hex),
      bytesToHex(envelope),
    );
    expect(text).toBe('sealed in node');
    const refused = await page.evaluate(
      (hex) => (globalThis as unknown as { envelopeTest: { open(hex: string): Promise<string> } }).envelopeTest.open(hex),
      bytesToHex(envelope.map((b, i) => (i === envelope.length - 1 ? b ^ 1 : b))),
    );
    expect(refused).toBe('EnvelopeError:BAD_SIGNATURE');
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);
});

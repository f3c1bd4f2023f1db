/**
 * Proves the library runs in a browser: esbuild bundles it into an IIFE, a local HTTP server on
 * 127.0.0.1 serves it, headless Chromium (playwright-core) computes the registration maths
 * (client-secret shares, their combination, token extraction) and a login proof in the page, and
 * Node verifies the proof with the server secret.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { chromium, type BrowserContext } from 'playwright-core';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type * as MpinModule from '../src/index.js';
import type { ClientLoginState } from '../src/index.js';
import { combineServerSecret, createChallenge, createServerKey, createSuite, generateMasterShare, issueServerShare, verifyLogin } from '../src/index.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(`mpin-in-chromium: skipped, ${CHROMIUM} is absent (Debian package "chromium")`);
}

/** What the bundle puts on the page's global object (and the state kept between the passes). */
interface PageGlobal {
  mpinPage: { mpin: typeof MpinModule; hexToBytes: typeof hexToBytes; bytesToHex: typeof bytesToHex };
  loginState: ClientLoginState;
}

const cryptoSrc = path.resolve(__dirname, '../../crypto/src');
const mpinSrc = path.resolve(__dirname, '../src');

/** The page's entry: the library plus hex helpers, exposed as `globalThis.mpinPage`. */
const ENTRY = `
export * as mpin from ${JSON.stringify(path.join(mpinSrc, 'index.ts'))};
export { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
`;

(haveChromium ? describe : describe.skip)('M-Pin in headless Chromium', () => {
  let workDir: string;
  let server: Server;
  let context: BrowserContext;
  let origin: string;

  beforeAll(async () => {
    workDir = mkdtempSync(path.join(tmpdir(), 'mpin-chromium-'));
    const bundle = await build({
      stdin: { contents: ENTRY, resolveDir: mpinSrc, loader: 'ts', sourcefile: 'mpin-page-entry.ts' },
      bundle: true,
      format: 'iife',
      globalName: 'mpinPage',
      platform: 'browser',
      target: 'es2022',
      write: false,
      alias: { '@milagro/crypto': path.join(cryptoSrc, 'index.ts') },
      nodePaths: [path.resolve(__dirname, '../../../node_modules')],
      logLevel: 'silent',
    });
    const js = bundle.outputFiles[0]!.text;
    const html = '<!doctype html><meta charset="utf-8"><title>mpin</title><script src="/mpin.js"></script>';
    server = createServer((req, res) => {
      if (req.url === '/mpin.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
      else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    context = await chromium.launchPersistentContext(path.join(workDir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (workDir) rmSync(workDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  test('registration maths and a login proof computed in the page verify in Node', async () => {
    const suite = createSuite();
    const masters = [generateMasterShare(suite), generateMasterShare(suite)];
    const serverKey = createServerKey(suite, combineServerSecret(suite, masters.map((m) => issueServerShare(suite, m))));

    const page = await context.newPage();
    await page.goto(origin);
    const identityHex = bytesToHex(new TextEncoder().encode('bob@example.org'));
    // In the page: the D-TAs' client-secret shares, their combination, the token, then pass 1.
    const pass1 = await page.evaluate(
      ({ masterHex, identityHex: idHex }) => {
        const { mpin, hexToBytes: h2b, bytesToHex: b2h } = (globalThis as unknown as PageGlobal).mpinPage;
        const suite = mpin.createSuite();
        const identity = h2b(idHex);
        const shares = masterHex.map((m: string) => mpin.issueClientShare(suite, h2b(m), identity));
        const clientSecret = mpin.combineClientSecret(suite, shares);
        const factors = [{ pin: '8080' }, { secret: new TextEncoder().encode('device-bound key of this browser') }];
        const token = mpin.extractToken(suite, { identity, clientSecret, factors });
        const { message, state } = mpin.clientPass1(suite, { identity, token, factors });
        (globalThis as unknown as PageGlobal).loginState = state;
        return { u: b2h(message.u), userAgent: navigator.userAgent };
      },
      { masterHex: masters.map(bytesToHex), identityHex },
    );
    expect(pass1.userAgent).toMatch(/Chrome/);

    const { challenge, keep } = createChallenge(suite);
    const vHex = await page.evaluate((yHex) => {
      const { mpin, hexToBytes: h2b, bytesToHex: b2h } = (globalThis as unknown as PageGlobal).mpinPage;
      return b2h(mpin.clientPass2((globalThis as unknown as PageGlobal).loginState, { y: h2b(yHex) }).v);
    }, bytesToHex(challenge.y));

    const proof = { identity: hexToBytes(identityHex), u: hexToBytes(pass1.u), v: hexToBytes(vHex), y: keep.y };
    expect(verifyLogin(serverKey, proof)).toEqual({ ok: true });
    expect(verifyLogin(serverKey, { ...proof, y: createChallenge(suite).keep.y })).toEqual({ ok: false, reason: 'rejected' });
  }, 120_000);
});

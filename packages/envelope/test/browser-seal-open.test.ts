/**
 * Browser interoperability: a headless Chromium seals an envelope that Node opens, and opens one
 * that Node sealed. The page runs an esbuild IIFE bundle of browser-entry.ts served from a local
 * HTTP server on 127.0.0.1 (so WebCrypto runs in a secure context). Skipped only when
 * /usr/bin/chromium is missing.
 */
import { join } from 'node:path';
import { bytesToHex, hexToBytes } from '@milagro/crypto';
import { describeInChromium, openBundlePage, type BundlePage } from '../../../tools/jest/browser-page.js';
import { encodeEnvelope, openEnvelope, sealEnvelope } from '../src/index.js';
import { testRecipient, testSender } from './identities.js';

describeInChromium('envelopes between a browser and Node', () => {
  let browser: BundlePage;

  beforeAll(async () => {
    browser = await openBundlePage(join(__dirname, 'browser-entry.ts'), ['crypto'], 'envelopeTest');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
  });

  test('sealed in the page, opened in Node; sealed in Node, opened in the page', async () => {
    const { page, errors } = browser;

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
  }, 180_000);
});

/**
 * The PKI in a browser: headless Chromium resolves and verifies an identity that Node created and
 * rotated with keys in a key store, refuses a tampered chain, and signs a chain that Node resolves.
 * Skipped only when /usr/bin/chromium is missing.
 */
import { join } from 'node:path';
import { bytesToHex, hexToBytes } from '@milagro/crypto';
import { MemoryKeyStore } from '@milagro/keystore';
import { describeInChromium, openBundlePage, type BundlePage } from '../../../tools/jest/browser-page.js';
import { createIdentity, documentCid, IdentityResolver, rotateIdentity } from '../src/index.js';
import { MemoryDocumentStore } from './support/memory-document-store.js';

type PkiTest = {
  runtime(): { userAgent: string; hasProcess: boolean };
  resolve(identity: string, blocks: string[], heads: string[]): Promise<{ seq: number; kem: string } | string>;
  makeChain(name: string, rotations: number): Promise<{ identity: string; head: string; blocks: string[] }>;
};

describeInChromium('identities between a browser and Node', () => {
  let opened: BundlePage;

  beforeAll(async () => {
    opened = await openBundlePage(join(__dirname, 'browser-entry.ts'), ['crypto', 'keystore'], 'pkiTest');
  }, 180_000);

  afterAll(async () => {
    await opened?.close();
  });

  test('Node creates and rotates, the page resolves; the page signs, Node resolves', async () => {
    const { page, errors } = opened;
    const runtime = await page.evaluate(() => (globalThis as unknown as { pkiTest: PkiTest }).pkiTest.runtime());
    expect(runtime.userAgent).toMatch(/Chrome/);
    expect(runtime.hasProcess).toBe(false);

    const store = new MemoryDocumentStore();
    const options = { keyStore: new MemoryKeyStore(), store };
    let alice = await createIdentity({ ...options, labelPrefix: 'alice' });
    alice = await rotateIdentity(alice, options);
    alice = await rotateIdentity(alice, options);
    const blocks = [...store.blocks.values()].map(bytesToHex);
    const args = { identity: alice.id.toString(), blocks, heads: [alice.head.toString()] };
    const resolve = (a: typeof args) => page.evaluate((x) => (globalThis as unknown as { pkiTest: PkiTest }).pkiTest.resolve(x.identity, x.blocks, x.heads), a);
    expect(await resolve(args)).toEqual({ seq: 2, kem: bytesToHex(alice.document.keys.kem) });

    // The head with one bit of its predecessor's signature flipped: the page refuses it.
    const head = store.blocks.get(alice.head.toString())!.slice();
    head[head.length - 100]! ^= 1;
    const tampered = { ...args, blocks: [...blocks, bytesToHex(head)], heads: [(await documentCid(head)).toString()] };
    expect(await resolve(tampered)).toMatch(/^PkiError:(BAD_SIGNATURE|MALFORMED)$/);

    const made = await page.evaluate(() => (globalThis as unknown as { pkiTest: PkiTest }).pkiTest.makeChain('browser', 2));
    const nodeStore = new MemoryDocumentStore();
    for (const hex of made.blocks) {
      const bytes = hexToBytes(hex);
      nodeStore.blocks.set((await documentCid(bytes)).toString(), bytes);
    }
    expect((await new IdentityResolver({ store: nodeStore }).resolve(made.identity, { heads: [made.head] })).seq).toBe(2);
    expect(errors).toEqual([]);
  }, 240_000);
});

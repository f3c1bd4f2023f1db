/**
 * Proves the client SDK runs in a browser: headless Chromium runs register, activate (sealed shares
 * opened with WebCrypto and the noble backend), setPin and login against the real service and D-TAs
 * of support/client-world.ts, keeping the credential in IndexedDB; the credential survives a page
 * reload and holds no PIN and no client secret. The bundle is built for the browser platform, so a
 * Node built-in in `@milagro/mfa/client` would fail the build. Skipped only when /usr/bin/chromium is missing.
 */
import { join } from 'node:path';
import { base64urlToBytes, bytesToBase64url } from '@milagro/crypto';
import { combineClientSecret, issueClientShare } from '@milagro/mpin';
import { describeInChromium, openBundlePage, type BundlePage } from '../../../tools/jest/browser-page.js';
import type { StoredCredential } from '../src/client/index.js';
import { startClientWorld, type ClientWorld } from './support/client-world.js';

type Step = (...args: string[]) => Promise<unknown>;
type PageApi = Record<'runtime' | 'register' | 'activate' | 'setPin' | 'login' | 'record' | 'clear', Step>;

describeInChromium('the MFA client in headless Chromium', () => {
  let world: ClientWorld;
  let browser: BundlePage;

  /** Calls `clientTest[name](...args)` in the page. */
  const call = (name: keyof PageApi, ...args: string[]): Promise<unknown> =>
    browser.page.evaluate(([n, a]) => ((globalThis as unknown as { clientTest: PageApi }).clientTest[n as keyof PageApi] as Step)(...(a as string[])), [name, args] as const);

  beforeAll(async () => {
    world = await startClientWorld();
    browser = await openBundlePage(join(__dirname, 'client-in-chromium-entry.ts'), ['crypto', 'mpin'], 'clientTest');
    await browser.page.exposeFunction('nodeFetch', async (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => {
      const response = await fetch(url, init);
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => (headers[name] = value));
      return { status: response.status, headers, body: await response.text() };
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  test('registers, activates, sets a PIN and logs in from the page; the IndexedDB credential survives a reload and holds no secret', async () => {
    expect(await call('runtime')).toMatchObject({ userAgent: expect.stringMatching(/Chrome/), hasProcess: false });
    const user = 'ivy@example.org';
    expect(await call('register', world.url, user)).toMatchObject({ activation: 'code' });
    expect(await call('activate', world.url, user, world.codeFor(user))).toMatchObject({ userId: user, shares: 2 });
    expect(await call('setPin', world.url, user, '7531')).toBeUndefined();
    expect(await call('login', world.url, user, '7531')).toMatchObject({ userId: user, accessToken: expect.any(String) });
    expect(await call('login', world.url, user, '7532')).toBe('error:AUTHENTICATION_FAILED');

    await browser.page.reload();
    await browser.page.waitForFunction(() => (globalThis as { clientTest?: unknown }).clientTest !== undefined);
    expect(await call('login', world.url, user, '7531')).toMatchObject({ userId: user });

    const text = (await call('record', user)) as string;
    const stored = JSON.parse(text) as StoredCredential;
    expect(Object.keys(stored).sort()).toEqual(['device', 'v']);
    const identity = base64urlToBytes(stored.device!.identity);
    const clientSecret = combineClientSecret(world.suite, world.realm.masterShares.slice(1).map((m) => ({ index: m.index, share: issueClientShare(world.suite, m.share, identity) })));
    expect(text).not.toContain(bytesToBase64url(clientSecret));
    expect(text).not.toContain('7531');

    expect(await call('clear', user)).toBeUndefined();
    expect(await call('record', user)).toBe('null');
    expect(await call('login', world.url, user, '7531')).toBe('error:NOT_REGISTERED');
    expect(browser.errors).toEqual([]);
  }, 180_000);
});

// The encrypted file at rest: permissions, no plaintext, persistence, and a wrong passphrase told
// apart from a damaged file.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { DEFAULT_SCRYPT_PARAMS, FileKeyStore, type KeyStoreErrorCode } from '@milagro/keystore';

const FAST_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };
const SECRET = new TextEncoder().encode('D-TA master share 0123456789abcdef');
const message = new TextEncoder().encode('at rest');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'milagro-keyfile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));

let n = 0;
const freshPath = () => join(dir, `keys-${n++}.mks`);
const open = (path: string, passphrase = 'correct horse battery staple') =>
  FileKeyStore.open({ path, passphrase, scrypt: FAST_SCRYPT });

async function expectCode(promise: Promise<unknown>, code: KeyStoreErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'KeyStoreError', code });
}

async function populated(): Promise<string> {
  const path = freshPath();
  const store = await open(path);
  await store.import('secret', SECRET, { label: 'share' });
  await store.generate('ed25519', { label: 'identity' });
  await store.close();
  return path;
}

test('production scrypt defaults are N=2^17, r=8, p=1', () => {
  expect(DEFAULT_SCRYPT_PARAMS).toEqual({ N: 131072, r: 8, p: 1 });
});

test('the file is mode 0600, records its KDF parameters and holds no plaintext secret', async () => {
  const path = await populated();
  expect(statSync(path).mode & 0o777).toBe(0o600);
  const text = readFileSync(path, 'utf8');
  expect(text).toContain('"N":1024');
  for (const encoding of ['hex', 'base64', 'utf8'] as const) {
    expect(text).not.toContain(Buffer.from(SECRET).toString(encoding));
  }
});

test('keys survive closing and reopening', async () => {
  const path = await populated();
  const store = await open(path);
  expect(await store.exportSecret({ label: 'share' })).toEqual(SECRET);
  expect((await store.sign({ label: 'identity' }, message)).length).toBe(64);
  await store.close();
});

test('a wrong passphrase is WRONG_PASSPHRASE', async () => {
  const path = await populated();
  await expectCode(open(path, 'wrong horse'), 'WRONG_PASSPHRASE');
});

test('a missing file with create: false is NOT_FOUND', async () => {
  await expectCode(FileKeyStore.open({ path: freshPath(), passphrase: 'x', create: false, scrypt: FAST_SCRYPT }), 'NOT_FOUND');
});

test('every single-byte change or truncation of the file is CORRUPTED, never a wrong passphrase (property)', async () => {
  const path = await populated();
  const original = readFileSync(path);
  await fc.assert(
    fc.asyncProperty(
      fc.nat({ max: original.length - 1 }),
      fc.integer({ min: 1, max: 255 }),
      fc.boolean(),
      async (index, xor, truncate) => {
        const damaged = truncate ? original.subarray(0, index) : Buffer.from(original);
        if (!truncate) damaged[index]! ^= xor;
        writeFileSync(path, damaged);
        await expectCode(open(path), 'CORRUPTED');
      },
    ),
    { numRuns: 60 },
  );
  writeFileSync(path, original);
  await (await open(path)).close();
});

test('entries swapped by someone who recomputes the digest fail to open (metadata is bound)', async () => {
  const path = freshPath();
  const store = await open(path);
  await store.import('secret', new Uint8Array([1, 2, 3]), { label: 'a' });
  await store.import('secret', new Uint8Array([4, 5, 6]), { label: 'b' });
  await store.close();
  const [, body] = readFileSync(path, 'utf8').split('\n') as [string, string];
  const doc = JSON.parse(body) as { entries: { sealed: string }[] };
  const [a, b] = doc.entries as [{ sealed: string }, { sealed: string }];
  [a.sealed, b.sealed] = [b.sealed, a.sealed];
  const forgedBody = JSON.stringify(doc);
  const digest = createHash('sha256').update(forgedBody).digest('hex');
  writeFileSync(path, `milagro-keystore/1 sha256=${digest}\n${forgedBody}\n`);
  const reopened = await open(path);
  await expectCode(reopened.exportSecret({ label: 'a' }), 'CORRUPTED');
  await reopened.close();
});

test('rotating to a new passphrase re-seals every key; the old passphrase stops working', async () => {
  const path = await populated();
  const store = await open(path);
  const before = await store.list();
  await store.rotateKek({ passphrase: 'new passphrase' });
  expect(await store.exportSecret({ label: 'share' })).toEqual(SECRET);
  await store.close();
  await expectCode(open(path), 'WRONG_PASSPHRASE');
  const reopened = await open(path, 'new passphrase');
  expect(await reopened.list()).toEqual(before);
  await reopened.close();
});

test('a second instance sees keys the first one wrote, and a rotation it made', async () => {
  const path = await populated();
  const first = await open(path);
  const second = await open(path);
  await first.generate('p-256', { label: 'later' });
  expect((await second.describe({ label: 'later' })).type).toBe('p-256');
  await first.rotateKek();
  expect(await second.exportSecret({ label: 'share' })).toEqual(SECRET);
  await first.close();
  await second.close();
});

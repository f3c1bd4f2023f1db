// Several processes and instances writing one key file at once: nobody's key is lost, and locks
// left by dead processes do not block the store forever.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileKeyStore, type KeyStoreErrorCode } from '@milagro/keystore';

const FAST_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };
const PASSPHRASE = 'shared passphrase';
const PER_WRITER = 12;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'milagro-keyfile-concurrent-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));

function runWriter(path: string, prefix: string): Promise<string> {
  const fixtures = join(__dirname, 'fixtures');
  const child = spawn(
    process.execPath,
    ['--no-warnings', '--import', join(fixtures, 'resolve-ts.mjs'), join(fixtures, 'concurrent-writer.ts'), path, prefix, String(PER_WRITER)],
    { env: { ...process.env, MILAGRO_TEST_PASSPHRASE: PASSPHRASE }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`writer ${prefix} exited ${code}: ${output}`)))),
  );
}

test('two child processes and an in-process instance writing at once lose no key', async () => {
  const path = join(dir, 'shared.mks');
  const local = await FileKeyStore.open({ path, passphrase: PASSPHRASE, scrypt: FAST_SCRYPT });
  const writers = [runWriter(path, 'a'), runWriter(path, 'b')];
  for (let i = 0; i < PER_WRITER; i++) await local.generate('p-256', { label: `local/${i}` });
  expect(await Promise.all(writers)).toEqual(['done\n', 'done\n']);

  const labels = (await local.list()).map((k) => k.label);
  expect(labels).toHaveLength(3 * PER_WRITER);
  for (const prefix of ['a', 'b', 'local']) {
    for (let i = 0; i < PER_WRITER; i++) expect(labels).toContain(`${prefix}/${i}`);
  }
  expect((await local.sign({ label: 'a/1' }, new Uint8Array([1]))).length).toBe(64);
  await local.close();
}, 120_000);

async function expectCode(promise: Promise<unknown>, code: KeyStoreErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'KeyStoreError', code });
}

test('a lock left by a dead process is broken; a live one times out with LOCK_TIMEOUT', async () => {
  const path = join(dir, 'locked.mks');
  const store = await FileKeyStore.open({ path, passphrase: PASSPHRASE, scrypt: FAST_SCRYPT, lock: { timeoutMs: 300 } });
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  writeFileSync(`${path}.lock`, JSON.stringify({ pid: dead, host: hostname(), token: 'dead' }));
  await store.generate('ed25519', { label: 'after-dead-lock' });

  writeFileSync(`${path}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), token: 'live' }));
  await expectCode(store.generate('ed25519', { label: 'blocked' }), 'LOCK_TIMEOUT');
  rmSync(`${path}.lock`);
  await store.generate('ed25519', { label: 'unblocked' });
  expect((await store.list()).map((k) => k.label)).toEqual(['after-dead-lock', 'unblocked']);
  await store.close();
});

// Disk full and other write failures: the store reports WRITE_FAILED, the file on disk is exactly
// what it was, no temporary file is left, and every key is still there.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileKeyStore, type KeyFileSystem, type KeyStoreErrorCode } from '@milagro/keystore';

const FAST_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };
const SECRET = new Uint8Array(32).fill(9);

async function expectCode(promise: Promise<unknown>, code: KeyStoreErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'KeyStoreError', code });
}

type Fault = 'none' | 'write' | 'sync' | 'rename';

/** node:fs/promises with one switchable fault on the key file's temporary files. */
function faultyFileSystem(): { fs: KeyFileSystem; fault: Fault } {
  const state: { fs: KeyFileSystem; fault: Fault } = {
    fault: 'none',
    fs: {
      open: async (path, flags, mode) => {
        const handle = await fsp.open(path, flags, mode);
        if (!path.endsWith('.tmp')) return handle;
        return {
          writeFile: async (data: Uint8Array) => {
            if (state.fault !== 'write') return handle.writeFile(data);
            // A partial write, as a full disk produces, then the error.
            await handle.writeFile(data.subarray(0, data.length >> 1));
            throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          },
          sync: async () => {
            if (state.fault === 'sync') throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
            return handle.sync();
          },
          close: () => handle.close(),
        };
      },
      readFile: (path) => fsp.readFile(path),
      rename: async (from, to) => {
        if (state.fault === 'rename') throw Object.assign(new Error('EXDEV'), { code: 'EXDEV' });
        return fsp.rename(from, to);
      },
      unlink: (path) => fsp.unlink(path),
      stat: (path) => fsp.stat(path),
      mkdir: (path, options) => fsp.mkdir(path, options),
    },
  };
  return state;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'milagro-keyfile-faults-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));

test.each(['write', 'sync', 'rename'] as const)('a failing %s changes nothing and loses no key', async (fault) => {
  const sub = join(dir, fault);
  mkdirSync(sub);
  const path = join(sub, 'keys.mks');
  const injected = faultyFileSystem();
  const store = await FileKeyStore.open({ path, passphrase: 'pw', scrypt: FAST_SCRYPT, fileSystem: injected.fs });
  await store.import('secret', SECRET, { label: 'kept' });
  const before = readFileSync(path);

  injected.fault = fault;
  await expectCode(store.generate('ed25519', { label: 'lost' }), 'WRITE_FAILED');
  await expectCode(store.delete({ label: 'kept' }), 'WRITE_FAILED');
  await expectCode(store.rotateKek({ passphrase: 'other' }), 'WRITE_FAILED');
  expect(readFileSync(path)).toEqual(before);
  expect(readdirSync(sub).sort()).toEqual(['keys.mks']);
  expect(await store.exportSecret({ label: 'kept' })).toEqual(SECRET);
  await expectCode(store.describe({ label: 'lost' }), 'NOT_FOUND');

  injected.fault = 'none';
  await store.generate('ed25519', { label: 'after' });
  await store.close();
  const reopened = await FileKeyStore.open({ path, passphrase: 'pw', scrypt: FAST_SCRYPT });
  expect((await reopened.list()).map((k) => k.label)).toEqual(['after', 'kept']);
  await reopened.close();
});

// A real full disk: a tiny tmpfs, filled up. Needs root (mount); the injected faults above cover the rest.
const canMount = process.getuid?.() === 0 && process.platform === 'linux';
(canMount ? test : test.skip)('a really full disk (tmpfs) gives WRITE_FAILED and keeps every key', async () => {
  const mountPoint = mkdtempSync(join(tmpdir(), 'milagro-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint], { stdio: 'ignore' });
  } catch {
    rmSync(mountPoint, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    console.warn('cannot mount a tmpfs here: real disk-full test skipped');
    return;
  }
  try {
    const path = join(mountPoint, 'keys.mks');
    const store = await FileKeyStore.open({ path, passphrase: 'pw', scrypt: FAST_SCRYPT });
    await store.import('secret', SECRET, { label: 'kept' });
    const before = readFileSync(path);
    // Fill the rest of the filesystem.
    const filler = join(mountPoint, 'filler');
    writeFileSync(filler, '');
    try {
      for (;;) await fsp.appendFile(filler, Buffer.alloc(4096));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    await expectCode(store.generate('ml-dsa-65', { label: 'lost' }), 'WRITE_FAILED');
    expect(readFileSync(path)).toEqual(before);
    expect(readdirSync(mountPoint).sort()).toEqual(['filler', 'keys.mks']);
    rmSync(filler);
    await store.generate('ml-dsa-65', { label: 'after' });
    expect((await store.list()).map((k) => k.label)).toEqual(['after', 'kept']);
    expect(await store.exportSecret({ label: 'kept' })).toEqual(SECRET);
    await store.close();
  } finally {
    execFileSync('umount', [mountPoint], { stdio: 'ignore' });
    rmSync(mountPoint, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
});

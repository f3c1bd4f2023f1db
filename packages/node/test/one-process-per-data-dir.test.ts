/**
 * `<dataDir>/node.lock`: a second opener is refused while the holder lives (in this process or
 * another), naming the holder; a lock left by a dead process, by a host that stopped touching it,
 * or half written long ago is taken over; releasing removes only one's own lock.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNodeError } from '../src/index.js';
import { dataDirHolder, LOCK_FILE, lockDataDir, STALE_AFTER_MS } from '../src/data-dir-lock.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'node-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function refusal(): Promise<string> {
  try {
    const lock = await lockDataDir(dir);
    await lock.release();
  } catch (error) {
    expect(isNodeError(error, 'DATA_DIR_IN_USE')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('the data dir was opened twice');
}

function writeLock(record: Record<string, unknown> | string, ageMs = 0): void {
  const path = join(dir, LOCK_FILE);
  writeFileSync(path, typeof record === 'string' ? record : JSON.stringify({ since: '2026-11-27T00:00:00.000Z', token: 'theirs', ...record }));
  const when = new Date(Date.now() - ageMs);
  utimesSync(path, when, when);
}

it('refuses a second opener in this process until the first releases', async () => {
  const lock = await lockDataDir(dir);
  expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
  expect(await refusal()).toContain(`in use by process ${process.pid} on ${hostname()}`);
  await lock.release();
  await lock.release();
  expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  await (await lockDataDir(dir)).release();
});

it('refuses while another live process on this host holds it, and takes over once it has died', async () => {
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
  try {
    writeLock({ pid: holder.pid, host: hostname() });
    expect(await refusal()).toMatch(new RegExp(`in use by process ${holder.pid} on ${hostname()} \\(since 2026-11-27T00:00:00.000Z\\): stop that process first`));
  } finally {
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
  }
  const lock = await lockDataDir(dir);
  expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid });
  await lock.release();
});

it('takes over a lock whose pid is dead, and one that was not touched for the stale time though its pid lives', async () => {
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeLock({ pid: Number(gone.stdout), host: hostname() });
  await (await lockDataDir(dir)).release();
  // A recycled pid (here: the test runner's parent, alive) whose lock nobody touches any more.
  writeLock({ pid: process.ppid, host: hostname() }, STALE_AFTER_MS + 5_000);
  await (await lockDataDir(dir)).release();
});

it('refuses a fresh lock of another host and takes over one it stopped touching', async () => {
  expect(await dataDirHolder(dir)).toBeUndefined();
  writeLock({ pid: 4242, host: 'another-host' });
  expect(await dataDirHolder(dir)).toEqual({ pid: 4242, host: 'another-host', since: '2026-11-27T00:00:00.000Z' });
  expect(await refusal()).toContain('in use by process 4242 on another-host');
  writeLock({ pid: 4242, host: 'another-host' }, STALE_AFTER_MS + 5_000);
  expect(await dataDirHolder(dir)).toBeUndefined();
  const lock = await lockDataDir(dir);
  expect(await dataDirHolder(dir)).toMatchObject({ pid: process.pid, host: hostname() });
  await lock.release();
});

it('treats a half-written lock as held for a moment, then takes it over', async () => {
  writeLock('{"pid":');
  expect(await refusal()).toContain('is being opened by another process');
  writeLock('{"pid":', 10_000);
  await (await lockDataDir(dir)).release();
});

it('never removes a lock that another process took over', async () => {
  const lock = await lockDataDir(dir);
  writeLock({ pid: 4242, host: 'another-host' });
  await lock.release();
  expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: 4242 });
});

/**
 * tools/jest/netns.ts never lets one run break the next: a namespace (and its veth pair) is removed
 * when its process exits, and what a killed process left behind is removed by the next one that
 * creates a namespace, while namespaces of live processes are left alone. Needs root; skipped with
 * the reason otherwise.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createNetworkNamespace, networkNamespacesUnavailable } from '../../jest/netns.js';

const NETNS = fileURLToPath(new URL('../../jest/netns.ts', import.meta.url));
const SOURCE_IMPORTS = fileURLToPath(new URL('../../jest/source-imports.mjs', import.meta.url));
const unavailable = networkNamespacesUnavailable();
if (unavailable !== undefined) console.warn(`skipping the network-namespace clean-up test: ${unavailable}`);

const namespaces = (): string[] => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((line) => line.split(' ')[0] ?? '');
const links = (): string => execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });

/** A child process that creates a namespace, prints its name and waits (exits on its own after `exitAfterMs` when given). */
async function childWithNamespace(exitAfterMs?: number): Promise<{ name: string; pid: number; exited: Promise<void>; kill(): void }> {
  const script = `import { createNetworkNamespace } from ${JSON.stringify(NETNS)};
const ns = createNetworkNamespace();
console.log(ns.name);
${exitAfterMs === undefined ? 'setInterval(() => {}, 1000);' : `setTimeout(() => process.exit(0), ${exitAfterMs});`}`;
  const child = spawn(process.execPath, ['--no-warnings', '--experimental-transform-types', '--import', SOURCE_IMPORTS, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const name = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    void exited.then(() => reject(new Error('the child exited before creating its namespace')));
  });
  return { name, pid: child.pid!, exited, kill: () => child.kill('SIGKILL') };
}

(unavailable === undefined ? describe : describe.skip)(`network namespaces of the fault drills${unavailable === undefined ? '' : ` (skipped: ${unavailable})`}`, () => {
  it('are removed when their process exits, or by the next run when it was killed, and kept while it lives', async () => {
    const exiting = await childWithNamespace(200);
    await exiting.exited;
    expect(namespaces()).not.toContain(exiting.name);

    const killed = await childWithNamespace();
    const living = await childWithNamespace();
    try {
      killed.kill();
      await killed.exited;
      expect(namespaces()).toContain(killed.name); // SIGKILL runs no exit handler
      expect(links()).toContain(`${killed.name.replace('-', '')}h`);

      const mine = createNetworkNamespace();
      try {
        expect(namespaces()).not.toContain(killed.name);
        expect(links()).not.toContain(`${killed.name.replace('-', '')}h`);
        expect(namespaces()).toEqual(expect.arrayContaining([living.name, mine.name]));
        expect(mine.address).not.toBe(mine.hostAddress);
      } finally {
        mine.remove();
      }
      expect(namespaces()).not.toContain(mine.name);
      expect(links()).not.toContain(`${mine.name.replace('-', '')}h`);
    } finally {
      living.kill();
      await living.exited;
      createNetworkNamespace().remove(); // clears what the killed `living` left
    }
    expect(namespaces()).not.toContain(living.name);
  }, 120_000);
});

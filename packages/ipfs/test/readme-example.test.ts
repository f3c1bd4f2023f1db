import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { transformSync } from 'esbuild';
import * as ipfs from '@milagro/ipfs';

// Runs the ```ts block of the README as written (imports swapped for the source module, the data dir
// for a temp dir), so the example a newcomer copies cannot drift from the API.
test('the README example runs and prints what its comments say', async () => {
  const readme = await readFile(resolve(__dirname, '../README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const dataDir = await mkdtemp(join(tmpdir(), 'milagro-ipfs-readme-'));
  try {
    const ts = (block as string)
      .replace(/import \{[\s\S]*?\} from '@milagro\/ipfs';\n/, '')
      .replace("'./data/ipfs'", JSON.stringify(dataDir));
    const body = transformSync(ts, { loader: 'ts' }).code;
    const printed: unknown[][] = [];
    const names = Object.keys(ipfs);
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
    const run = new AsyncFunction(...names, 'console', body);
    await run(...names.map((n) => (ipfs as Record<string, unknown>)[n]), { log: (...values: unknown[]) => printed.push(values) });
    expect(printed).toEqual([
      ['bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae'],
      [{ hello: 'world' }],
      [true],
      ['INVALID_CID'],
    ]);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

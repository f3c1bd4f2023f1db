import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { transformSync } from 'esbuild';
import * as ipfs from '@milagro/ipfs';
import { startKubo } from '../../../tools/kubo/kubo-daemon.js';
import { kuboAvailability, reportMissingKubo } from './support/kubo-binary.js';

// Runs the ```ts blocks of the README as written (imports swapped for the source module, the data dir
// and daemon URL for test ones), so the examples a newcomer copies cannot drift from the API.

async function readmeBlock(mentioning: string): Promise<string> {
  const readme = await readFile(resolve(__dirname, '../README.md'), 'utf8');
  const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '').find((code) => code.includes(mentioning));
  expect(block).toBeDefined();
  return block as string;
}

/** Runs `block` with `replacements` applied and returns what it passed to console.log. */
async function runBlock(block: string, replacements: Record<string, string>): Promise<unknown[][]> {
  let ts = block.replace(/import \{[\s\S]*?\} from '@milagro\/ipfs';\n/, '');
  for (const [from, to] of Object.entries(replacements)) ts = ts.replace(from, to);
  const body = transformSync(ts, { loader: 'ts' }).code;
  const printed: unknown[][] = [];
  const names = Object.keys(ipfs);
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
  const run = new AsyncFunction(...names, 'console', body);
  await run(...names.map((n) => (ipfs as Record<string, unknown>)[n]), { log: (...values: unknown[]) => printed.push(values) });
  return printed;
}

test('the README example runs and prints what its comments say', async () => {
  const block = await readmeBlock('createEmbeddedNode(');
  const dataDir = await mkdtemp(join(tmpdir(), 'milagro-ipfs-readme-'));
  try {
    expect(await runBlock(block, { "'./data/ipfs'": JSON.stringify(dataDir) })).toEqual([
      ['bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae'],
      [{ hello: 'world' }],
      [true],
      ['INVALID_CID'],
    ]);
  } finally {
    await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
});

describe('the README Kubo example', () => {
  const kubo = kuboAvailability();
  if ('missing' in kubo) {
    reportMissingKubo('README Kubo example', kubo);
    return;
  }

  it('runs against a real daemon and prints what its comments say', async () => {
    const block = await readmeBlock('connectKubo(');
    const daemon = await startKubo({ binary: kubo.binary });
    try {
      expect(await runBlock(block, { "'http://127.0.0.1:5001'": JSON.stringify(daemon.apiUrl) })).toEqual([
        ['bafkreihzswnw3zgnymkvcmtb27rwuidjm6dvjfb7avn62ulmcjy2yalayy'],
        ['hello kubo'],
        [true],
      ]);
    } finally {
      await daemon.stop();
    }
  });
});

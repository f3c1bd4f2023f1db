import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { transformSync } from 'esbuild';
import * as keystore from '@milagro/keystore';
import * as pki from '../src/index.js';
import { MemoryDocumentStore } from './support/memory-document-store.js';

// Runs the ```ts block of the README as written (imports swapped for the modules, `store` for a memory
// store), so the example a newcomer copies cannot drift from the API.
test('the README example runs and prints what its comments say', async () => {
  const readme = await readFile(resolve(__dirname, '../README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const ts = (block as string).replace(/import \{[\s\S]*?\} from '@milagro\/(keystore|pki)';\n/g, '');
  const body = transformSync(ts, { loader: 'ts' }).code;
  const printed: unknown[][] = [];
  const scope: Record<string, unknown> = { ...keystore, ...pki, store: new MemoryDocumentStore() };
  const names = Object.keys(scope);
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
  await new AsyncFunction(...names, 'console', body)(...names.map((n) => scope[n]), { log: (...values: unknown[]) => printed.push(values) });
  expect(printed).toEqual([[1], ['REVOKED']]);
}, 120_000);

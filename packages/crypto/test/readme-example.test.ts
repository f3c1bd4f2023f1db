import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { transformSync } from 'esbuild';
import * as crypto from '@milagro/crypto';

// Runs the ```ts block of the package README as written (imports swapped for the source module),
// so the example a newcomer copies cannot drift from the API.
test('the README example runs and prints what its comments say', async () => {
  const readme = readFileSync(resolve(__dirname, '../README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const ts = (block as string).replace(/import \{[\s\S]*?\} from '@milagro\/crypto';\n/, '');
  const body = transformSync(ts, { loader: 'ts' }).code;
  const printed: unknown[] = [];
  const names = Object.keys(crypto);
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
  const run = new AsyncFunction(...names, 'console', body);
  await run(...names.map((n) => (crypto as Record<string, unknown>)[n]), { log: (v: unknown) => printed.push(v) });
  expect(printed.slice(0, 3)).toEqual([true, true, true]);
  expect(new TextDecoder().decode(printed[3] as Uint8Array)).toBe('hello');
});

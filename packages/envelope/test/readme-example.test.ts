import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { transformSync } from 'esbuild';
import * as milagroCrypto from '@milagro/crypto';
import * as envelope from '@milagro/envelope';

// Runs the first ```ts block of the package README as written (its imports replaced by the two
// packages' exports), and checks every `console.log(...); // expected` prints what the comment
// says, so the example a newcomer copies cannot drift from the API.
test('the README example runs and prints what its comments say', async () => {
  const readme = readFileSync(resolve(__dirname, '../README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const expected = [...(block as string).matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]);
  expect(expected.length).toBeGreaterThanOrEqual(3);
  const ts = (block as string).replace(/import \{[\s\S]*?\} from '@milagro\/(envelope|crypto)';\n/g, '');
  expect(ts).not.toMatch(/\bimport\b/);
  const code = transformSync(ts, { loader: 'ts' }).code;
  const exports: Record<string, unknown> = { ...milagroCrypto, ...envelope };
  const names = Object.keys(exports);
  const printed: string[] = [];
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
  const run = new AsyncFunction(...names, 'console', code);
  await run(...names.map((n) => exports[n]), { log: (v: unknown) => printed.push(String(v)) });
  expect(printed).toEqual(expected);
});

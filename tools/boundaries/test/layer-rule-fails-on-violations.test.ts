import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';

// Proves the boundary check is not a rubber stamp: the fixtures under ./fixtures break the layer
// rule on purpose, and the same configuration the build uses must refuse each violation.
const root = resolve(__dirname, '../../..');
const fixtures = resolve(__dirname, '../fixtures');
const depcruise = join(root, 'node_modules/.bin/depcruise');

function cruise(cwd: string, args: string[]): { status: number; output: string } {
  try {
    const output = execFileSync(depcruise, [...args, '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'err'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { status: 0, output };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { status: e.status, output: `${e.stdout}${e.stderr}` };
  }
}

describe('the layer rule', () => {
  const result = cruise(fixtures, ['packages', 'apps']);

  it('fails the build when violated', () => {
    expect(result.status).not.toBe(0);
  });

  it('refuses a lower layer importing a higher one', () => {
    expect(result.output).toMatch(/layer-crypto: packages\/crypto\/src\/index\.ts → packages\/mpin\/src\/index\.ts/);
  });

  it('refuses a package importing a sibling of its own layer by package name', () => {
    expect(result.output).toMatch(/layer-envelope: packages\/envelope\/src\/index\.ts → packages\/mpin\/src\/index\.ts/);
  });

  it('refuses a package importing an app', () => {
    expect(result.output).toMatch(/no-package-imports-app: packages\/crypto\/src\/index\.ts → apps\/demo\/src\/index\.ts/);
  });

  it('passes on the real tree', () => {
    const real = cruise(root, ['packages', 'apps']);
    expect(real.output).toMatch(/no dependency violations found/);
    expect(real.status).toBe(0);
  });
});

/**
 * `milagro` on a Node older than its `engines` range says which Node it needs instead of failing
 * later on a missing built-in module; the built executable does so under the machine's own Node when
 * that is older (Debian 12's is 18 or 20).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MINIMUM_NODE, nodeVersionProblem } from '../src/node-version.js';

const APP = join(import.meta.dirname, '..');

it('compares releases part by part', () => {
  for (const version of ['24.11.0', '24.11.1', '24.21.0', '25.0.0', '30.1.2', 'v24.12.0']) expect(nodeVersionProblem(version)).toBeUndefined();
  for (const version of ['20.20.2', '22.12.0', '24.10.9', '24.0.0', '18.19.0', 'v20.1.0']) {
    expect(nodeVersionProblem(version)).toBe(`it needs Node ${MINIMUM_NODE} or later, and this is Node ${version}: install Node 24 (https://nodejs.org), or run the container image`);
  }
  expect(nodeVersionProblem('24.11.0-pre')).toBeUndefined();
});

it('asks for the release package.json promises', () => {
  const { engines } = JSON.parse(readFileSync(join(APP, 'package.json'), 'utf8')) as { engines: { node: string } };
  expect(engines.node).toBe(`>=${MINIMUM_NODE.replace(/\.0$/, '')}`);
});

const systemNode = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => existsSync(path));
const systemVersion = systemNode === undefined ? undefined : execFileSync(systemNode, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
const built = join(APP, 'dist', 'main.js');
const runnable = systemVersion !== undefined && nodeVersionProblem(systemVersion) !== undefined && existsSync(built);

(runnable ? it : it.skip)(`the built command run by the machine's Node ${systemVersion ?? '(none)'} says so and exits 1`, () => {
  const result = spawnSync(systemNode as string, [built, 'status'], { encoding: 'utf8' });
  expect(result.status).toBe(1);
  expect(result.stderr).toBe(`milagro: it needs Node ${MINIMUM_NODE} or later, and this is Node ${systemVersion as string}: install Node 24 (https://nodejs.org), or run the container image\n`);
});

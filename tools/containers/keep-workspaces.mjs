// Run in an image's production tree (workspace manifests, node_modules, every workspace's dist):
// keeps the given app workspace and the workspaces it depends on, transitively through
// `dependencies`, and removes every other workspace folder with its link in node_modules.
// Usage: node keep-workspaces.mjs apps/dta-server
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';

const app = process.argv[2];
const manifest = (dir) => JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'));
const folders = manifest('.').workspaces.flatMap((pattern) => {
  const parent = pattern.replace(/\/\*$/, '');
  return readdirSync(parent).map((name) => `${parent}/${name}`);
});
const folderOf = new Map(folders.filter((dir) => existsSync(`${dir}/package.json`)).map((dir) => [manifest(dir).name, dir]));
if (![...folderOf.values()].includes(app)) throw new Error(`${app} is not a workspace`);

const kept = new Set();
for (const pending = [app]; pending.length > 0; ) {
  const dir = pending.pop();
  if (kept.has(dir)) continue;
  kept.add(dir);
  for (const name of Object.keys(manifest(dir).dependencies ?? {})) if (folderOf.has(name)) pending.push(folderOf.get(name));
}
for (const [name, dir] of folderOf) {
  if (kept.has(dir)) continue;
  rmSync(dir, { recursive: true, force: true });
  rmSync(`node_modules/${name}`, { recursive: true, force: true });
}
console.log(`kept ${[...kept].sort().join(' ')}`);

// Puts back the `resolved` tarball URL of every registry package in package-lock.json.
//
// Why: a lockfile written with `omit-lockfile-registry-resolved=true` (set in this machine's
// ~/.npmrc) has no `resolved` fields, and then `npm ci` must fetch every package's packument (its
// whole version history, often megabytes) from the registry just to learn the tarball URL, even
// when every tarball is already in the npm cache: ~1,200 packuments made `npm ci` take 12-15 min in
// CI. With `resolved` present npm ci goes straight to the cached tarball by its integrity.
// The project's .npmrc now sets omit-lockfile-registry-resolved=false, so npm keeps them; run this
// (`node tools/build/lockfile-resolved.mjs`) if a lockfile without them comes back. `--check` only
// reports, exiting 1 when any is missing.
import { readFileSync, writeFileSync } from 'node:fs';

const REGISTRY = 'https://registry.npmjs.org/';
const file = new URL('../../package-lock.json', import.meta.url);
const text = readFileSync(file, 'utf8');
const lock = JSON.parse(text);
const missing = [];
for (const [path, entry] of Object.entries(lock.packages ?? {})) {
  const at = path.lastIndexOf('node_modules/');
  if (at === -1 || entry.link || entry.resolved !== undefined) continue;
  // Only plain registry versions with an integrity hash; anything else (git, file, tarball URL) is left alone.
  if (typeof entry.integrity !== 'string' || !/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(entry.version ?? '')) continue;
  const name = entry.name ?? path.slice(at + 'node_modules/'.length); // `name` is set for aliases (npm:pkg@v)
  const base = name.startsWith('@') ? name.slice(name.indexOf('/') + 1) : name;
  missing.push(path);
  if (!process.argv.includes('--check')) {
    // Keep npm's key order: resolved comes right after version.
    const ordered = {};
    for (const [key, value] of Object.entries(entry)) {
      ordered[key] = value;
      if (key === 'version') ordered.resolved = `${REGISTRY}${name}/-/${base}-${entry.version}.tgz`;
    }
    lock.packages[path] = ordered;
  }
}
if (process.argv.includes('--check')) {
  if (missing.length > 0) {
    console.error(`package-lock.json: ${missing.length} packages lack "resolved" (npm ci would fetch their packuments); run node tools/build/lockfile-resolved.mjs`);
    process.exit(1);
  }
} else {
  writeFileSync(file, JSON.stringify(lock, null, 2) + (text.endsWith('\n') ? '\n' : ''));
  console.log(`package-lock.json: added "resolved" to ${missing.length} packages`);
}

// The four server images' Dockerfiles come from one template, tools/containers/Dockerfile.in: they
// share every build stage (so one cached build serves all four) and differ only in the values below.
// Each stays a whole Dockerfile in its app's folder, because `podman build -f apps/<app>/Dockerfile .`
// (and ../shared/tools/container-smoke.sh) builds one file with no build arguments.
// Usage: node tools/containers/dockerfiles.mjs          writes apps/<app>/Dockerfile
//        node tools/containers/dockerfiles.mjs --check  exits 1 when one differs from the template
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What differs between the images. Secrets listed in `generatedSecrets` are made on first start when the environment lacks them. */
export const IMAGES = [
  {
    app: 'dta-server',
    workspace: '@milagro/dta-server',
    image: 'milagro-dta',
    title: 'The D-TA server image.',
    runEnv: '-e MILAGRO_KEYSTORE_PASSPHRASE=... -e MILAGRO_DTA_ADMIN_TOKEN=...',
    configVar: 'MILAGRO_DTA_CONFIG',
    configFile: 'dta.json',
    configPath: '/etc/milagro/dta.json',
    generatedSecrets: 'MILAGRO_KEYSTORE_PASSPHRASE MILAGRO_DTA_ADMIN_TOKEN',
    cmd: ['node', 'apps/dta-server/dist/main.js'],
  },
  {
    app: 'mfa-server',
    workspace: '@milagro/mfa-server',
    image: 'milagro-mfa',
    title: 'The ZKP MFA server image.',
    runEnv: '-e MILAGRO_KEYSTORE_PASSPHRASE=... -e MILAGRO_MFA_ADMIN_TOKEN=...',
    configVar: 'MILAGRO_MFA_CONFIG',
    configFile: 'mfa.json',
    configPath: '/etc/milagro/mfa.json',
    generatedSecrets: 'MILAGRO_KEYSTORE_PASSPHRASE MILAGRO_MFA_ADMIN_TOKEN',
    cmd: ['node', 'apps/mfa-server/dist/main.js'],
  },
  {
    app: 'custody-server',
    workspace: '@milagro/custody-server',
    image: 'milagro-custody',
    title: 'The custody server image (one custody operator).',
    runEnv: '-e MILAGRO_KEYSTORE_PASSPHRASE=...',
    configVar: 'MILAGRO_CUSTODY_CONFIG',
    configFile: 'custody.json',
    configPath: '/etc/milagro/custody.json',
    generatedSecrets: 'MILAGRO_KEYSTORE_PASSPHRASE',
    cmd: ['node', 'apps/custody-server/dist/main.js'],
  },
  {
    app: 'milagro',
    workspace: '@milagro/server',
    image: 'milagro',
    title: 'The all-in-one Milagro Server image (`milagro start`: the roles its config lists).',
    runEnv: '-e MILAGRO_KEYSTORE_PASSPHRASE=... -e MILAGRO_DTA_ADMIN_TOKEN=...',
    configVar: 'MILAGRO_CONFIG',
    configFile: 'milagro.yaml',
    configPath: '/etc/milagro/config.yaml',
    generatedSecrets: 'MILAGRO_KEYSTORE_PASSPHRASE MILAGRO_DTA_ADMIN_TOKEN',
    cmd: ['node', 'apps/milagro/dist/main.js', 'start'],
  },
];

/** The Dockerfile of one image: the template with its values filled in; fails on a placeholder left over. */
export function renderDockerfile(template, image) {
  const text = template.replace(/\{\{(\w+)\}\}/g, (_, key) => {
    if (!(key in image)) throw new Error(`Dockerfile.in: no value for {{${key}}} in ${image.app}`);
    const value = image[key];
    return Array.isArray(value) ? JSON.stringify(value).replaceAll(',', ', ') : value;
  });
  return text;
}

export function dockerfilePath(image) {
  return join(root, 'apps', image.app, 'Dockerfile');
}

function main() {
  const template = readFileSync(join(root, 'tools', 'containers', 'Dockerfile.in'), 'utf8');
  const check = process.argv.includes('--check');
  const stale = [];
  for (const image of IMAGES) {
    const wanted = renderDockerfile(template, image);
    const path = dockerfilePath(image);
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // missing: written below, or reported as stale
    }
    if (current === wanted) continue;
    if (check) stale.push(`apps/${image.app}/Dockerfile`);
    else writeFileSync(path, wanted);
  }
  if (stale.length > 0) {
    process.stderr.write(`${stale.join(', ')} differ from tools/containers/Dockerfile.in: run \`node tools/containers/dockerfiles.mjs\`\n`);
    process.exit(1);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();

// `npm run dev`: a complete local deployment from the sources, on embedded defaults: three D-TAs
// (each its own process with an embedded IPFS node on a private network, a file key store and
// SQLite), their realm (2-of-3, created by a DKG), the MFA server that gets its secret from them, and
// the demo page. Prints the URLs, writes them to dev-cluster.json, and stops everything on Ctrl-C.
// Data lives in a temporary directory removed on exit (set MILAGRO_DEV_DIR to keep it elsewhere).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateSwarmKey } from '@milagro/ipfs';
import { createRealm, startDtaCluster } from '../jest/dta-cluster.js';
import { freePort, MFA_ADMIN_TOKEN, startDemo, startMfaServer } from '../jest/mfa-cluster.js';
import { waitFor } from '../jest/peer-process.js';

const REALM = 'local';
const started = performance.now();
const step = (text: string): void => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}`);

const keep = process.env['MILAGRO_DEV_DIR'];
const root = keep === undefined ? mkdtempSync(join(tmpdir(), 'milagro-dev-')) : resolve(keep);
mkdirSync(root, { recursive: true });
const swarmKey = generateSwarmKey();
const demoPort = Number(process.env['MILAGRO_DEMO_PORT'] ?? (await freePort()));
const demoOrigin = `http://127.0.0.1:${demoPort}`;

step('starting three D-TAs (embedded IPFS, private network)…');
const dtas = await startDtaCluster({ root, swarmKey, corsOrigins: [demoOrigin] });
step('starting the MFA server…');
const mfa = await startMfaServer({ root, swarmKey, dtas, realmId: REALM, threshold: 2, corsOrigins: [demoOrigin], activationLink: `${demoOrigin}/#code={code}` });
step(`creating realm "${REALM}" (2 of 3) by a DKG among the D-TAs…`);
await createRealm(dtas, { realmId: REALM, threshold: 2, mfaService: mfa.id });
await waitFor('the MFA server to combine its server secret', async () => (await fetch(`${mfa.server.url}/readyz`)).ok, 180_000, 250);
step('starting the demo page…');
const demo = await startDemo({ mfaUrl: mfa.server.url, port: demoPort });

const cluster = {
  demo: demo.url,
  mfa: { url: mfa.server.url, identity: mfa.id, adminToken: MFA_ADMIN_TOKEN },
  dtas: dtas.map((d) => ({ name: d.name, url: d.server.url, identity: d.id })),
  realm: REALM,
  dataDir: root,
};
writeFileSync('dev-cluster.json', `${JSON.stringify(cluster, null, 2)}\n`);
step('ready (URLs also in dev-cluster.json):');
console.log(`
  demo page     ${demo.url}     register, activate from the outbox, choose a PIN, log in
  MFA server    ${mfa.server.url}  (OpenAPI at /openapi.json)
${dtas.map((d) => `  ${d.name}         ${d.server.url}`).join('\n')}

Ctrl-C stops everything${keep === undefined ? ' and removes the data' : ''}.`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  step('stopping…');
  await Promise.all([demo.stop(), mfa.server.stop(), ...dtas.map((d) => d.server.stop())]);
  if (keep === undefined) rmSync(root, { recursive: true, force: true });
  rmSync('dev-cluster.json', { force: true });
  process.exit(0);
}
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

/**
 * Suite `dta` (brief §7: D-TA client-share issuance ≥ 200/s on 2 cores including grant
 * verification), over HTTP: the server (issuance-server.ts) runs in its own process, this one
 * signs grants in setup (the MFA service's cost, not the D-TA's) and POSTs
 * `/v1/realms/bench/client-shares` with keep-alive, one at a time and 32 at once. Issuances per
 * second = 1000 / median (per issuance). Every grant is used once, as in production.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { bytesToBase64url, generateXWingKeyPair } from '@milagro/crypto';
import { createGrant } from '@milagro/dta';
import { MemoryKeyStore } from '@milagro/keystore';
import { createIdentity, identitySigner, MemoryDocumentStore } from '@milagro/pki';
import type { BenchSuite } from '../../../tools/bench/suite.js';

const CONCURRENT = 32;
const GRANTS = 6000;
const identity = bytesToBase64url(new TextEncoder().encode('alice@example.org'));
/** What the client SDK sends: an X-Wing public key the share comes back sealed to (HPKE). */
const sealTo = bytesToBase64url(generateXWingKeyPair().publicKey);

const store = new MemoryDocumentStore();

let server: ChildProcess;
let endpoint: string;
const grants: string[] = [];

async function issue(sealed = false): Promise<void> {
  const grant = grants.pop();
  if (grant === undefined) throw new Error(`bench used more than ${GRANTS} grants: raise GRANTS`);
  const response = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant, identity, ...(sealed ? { sealTo } : {}) }) });
  if (response.status !== 200) throw new Error(`issuance answered ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

export default {
  suite: 'dta',
  setup: async () => {
    const keyStore = new MemoryKeyStore();
    const mfa = await createIdentity({ keyStore, store, labelPrefix: 'mfa' });
    const dta = await createIdentity({ keyStore, store, labelPrefix: 'dta' });
    server = spawn(process.execPath, ['--no-warnings', fileURLToPath(new URL('./issuance-server.ts', import.meta.url))], {
      env: { ...process.env, BENCH_SERVER_CONFIG: JSON.stringify({ self: dta.id.toString(), mfa: mfa.id.toString(), blocks: [...store.entries()].map(([cid, bytes]) => [cid, bytesToBase64url(bytes)]) }) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: server.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
      server.once('exit', (code) => reject(new Error(`bench server exited (${code})`)));
    });
    endpoint = `${url}/v1/realms/bench/client-shares`;
    const signer = identitySigner(mfa, keyStore);
    for (let i = 0; i < GRANTS; i++) {
      const token = await createGrant({ signer, purpose: 'client-secret', realm: 'bench', audience: dta.id.toString(), identity: new TextEncoder().encode('alice@example.org'), lifetimeSeconds: 7200 });
      grants.push(bytesToBase64url(token));
    }
  },
  teardown: async () => {
    server.stdin?.end();
    await new Promise((resolve) => server.once('exit', resolve));
  },
  cases: [
    { name: 'client share over HTTP incl. grant verification, one at a time', fn: () => issue(), iterations: 200, time: 1500 },
    {
      name: `client share over HTTP incl. grant verification, ${CONCURRENT} concurrent (per issuance)`,
      perItem: CONCURRENT,
      fn: () => Promise.all(Array.from({ length: CONCURRENT }, () => issue())),
      iterations: 20,
      time: 1500,
    },
    {
      name: `sealed client share (HPKE X-Wing, as the client SDK asks) over HTTP, ${CONCURRENT} concurrent (per issuance)`,
      perItem: CONCURRENT,
      fn: () => Promise.all(Array.from({ length: CONCURRENT }, () => issue(true))),
      iterations: 20,
      time: 1500,
    },
  ],
} satisfies BenchSuite;

/**
 * Suite `keystore`: signing inside the HSM (SoftHSM2 over PKCS#11) against the same operation on a
 * software key in memory (baseline), the encrypted-file store, and unwrap-and-use latency for a
 * secret wrapped by the HSM's key. Needs softhsm2; the token is created in a temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchCase, BenchSuite } from '../../../tools/bench/suite.js';
import { FileKeyStore, MemoryKeyStore, type KeyStore } from '@milagro/keystore';
import { Pkcs11KeyStore } from '@milagro/keystore/pkcs11';

const SOFTHSM_MODULE = process.env.SOFTHSM2_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';
const message = new TextEncoder().encode('benchmark message: 32 bytes long');
const TYPES = ['ed25519', 'secp256k1', 'p-256', 'ml-dsa-65'] as const;
let dir = '';
const stores: { hsm?: KeyStore; memory?: KeyStore; file?: KeyStore } = {};

function createToken(into: string): { tokenLabel: string; pinFile: string } {
  const script = resolve(import.meta.dirname, '../../../tools/softhsm/setup-token.sh');
  const out = execFileSync('sh', [script, into], { encoding: 'utf8' });
  const env = Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1] as string, m[2] as string]));
  process.env.SOFTHSM2_CONF = env.SOFTHSM2_CONF;
  return { tokenLabel: env.MILAGRO_PKCS11_TOKEN_LABEL as string, pinFile: env.MILAGRO_PKCS11_PIN_FILE as string };
}

const signCases: BenchCase[] = TYPES.flatMap((type) => [
  { name: `sign ${type} · memory (software)`, fn: () => stores.memory?.sign({ label: type }, message) },
  { name: `sign ${type} · PKCS#11`, fn: () => stores.hsm?.sign({ label: type }, message), baseline: `sign ${type} · memory (software)` },
  { name: `sign ${type} · encrypted file`, fn: () => stores.file?.sign({ label: type }, message), baseline: `sign ${type} · memory (software)` },
]);

export default {
  suite: 'keystore',
  async setup() {
    dir = mkdtempSync(join(tmpdir(), 'milagro-keystore-bench-'));
    const token = createToken(join(dir, 'hsm'));
    stores.hsm = await Pkcs11KeyStore.open({ module: SOFTHSM_MODULE, tokenLabel: token.tokenLabel, pin: { file: token.pinFile } });
    stores.memory = new MemoryKeyStore();
    stores.file = await FileKeyStore.open({ path: join(dir, 'keys.mks'), passphrase: 'bench', scrypt: { N: 2 ** 14, r: 8, p: 1 } });
    const secret = new Uint8Array(32).fill(0x42);
    for (const type of TYPES) {
      await stores.hsm.generate(type, { label: type }); // in the HSM where the token can, else HSM-wrapped
      await stores.memory.import(type, secret, { label: type });
      await stores.file.import(type, secret, { label: type });
    }
    await stores.hsm.generate('secret', { label: 'opaque' });
    await stores.memory.generate('secret', { label: 'opaque' });
  },
  async teardown() {
    await Promise.all([stores.hsm?.close(), stores.memory?.close(), stores.file?.close()]);
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  },
  cases: [
    ...signCases,
    { name: 'unseal opaque secret · memory (AES-256-GCM)', fn: () => stores.memory?.exportSecret({ label: 'opaque' }) },
    { name: 'unwrap opaque secret · PKCS#11', fn: () => stores.hsm?.exportSecret({ label: 'opaque' }), baseline: 'unseal opaque secret · memory (AES-256-GCM)' },
  ],
} satisfies BenchSuite;

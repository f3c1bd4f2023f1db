/**
 * Every D-TA, MFA server and test peer imports this package, so what it loads is start-up time paid
 * ~30 times per CI run. The embedded node must not load Helia's default public-network composition
 * (DHT, AutoNAT, UPnP, relay, WebRTC, delegated HTTP routing: ~1,000 modules) nor the Kubo client
 * (~160 modules), which only `connectKubo` needs. Checked in a fresh Node process, which loads
 * modules the way a server does.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SOURCE_IMPORTS = fileURLToPath(new URL('../../../tools/jest/source-imports.mjs', import.meta.url));
const INDEX = new URL('../src/index.ts', import.meta.url).href;
const UNWANTED = /\/node_modules\/(kubo-rpc-client|@libp2p\/(kad-dht|autonat|upnp-nat|circuit-relay-v2|webrtc|bootstrap)|@helia\/http)\//;

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'milagro-ipfs-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

it('starts and stops an embedded node without loading the default composition or the Kubo client', async () => {
  const script = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
    const { createEmbeddedNode } = await import(${JSON.stringify(INDEX)});
    const node = await createEmbeddedNode({ dataDir: ${JSON.stringify(dataDir)} });
    const cid = await node.store.putDag({ hello: 'world' });
    await node.stop();
    console.log(JSON.stringify({ cid: cid.toString(), loaded }));
    process.exit(0);
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--no-warnings', '--experimental-transform-types', '--import', SOURCE_IMPORTS, '--input-type=module', '--eval', script],
    { timeout: 60_000 },
  );
  const { cid, loaded } = JSON.parse(stdout) as { cid: string; loaded: string[] };
  expect(cid).toMatch(/^bafyrei/);
  expect(loaded.some((url) => url.includes('/node_modules/libp2p/'))).toBe(true);
  expect(loaded.filter((url) => UNWANTED.test(url))).toEqual([]);
});

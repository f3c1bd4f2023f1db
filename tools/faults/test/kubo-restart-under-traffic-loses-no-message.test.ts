/**
 * Issue 12, faults: Kubo restarted under traffic. Three D-TA processes use one Kubo daemon as their
 * IPFS (`ipfs.kubo` in their config) instead of embedded nodes. A realm's DKG is proposed and the
 * daemon is killed while the members exchange their rounds, then started again: the envelopes are
 * announced again until acknowledged, the realm becomes active at every member with one group key,
 * and nothing stays unacknowledged. A second realm proposed right after a graceful restart completes too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DTA_ADMIN_TOKEN, jsonRequest, startDta, type DtaProcess } from '../../jest/dta-cluster.js';
import { killAllPeers, waitFor } from '../../jest/peer-process.js';
import { startKubo, type KuboDaemon } from '../../kubo/kubo-daemon.js';
import { kuboAvailability, reportMissingKubo } from '../../../packages/ipfs/test/support/kubo-binary.js';

const kubo = kuboAvailability();

describe('Kubo restarted under traffic', () => {
  if ('missing' in kubo) {
    reportMissingKubo('Kubo restart drill', kubo);
    return;
  }
  let root: string;
  let daemon: KuboDaemon;
  const dtas: DtaProcess[] = [];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'milagro-kubo-drill-'));
    daemon = await startKubo({ binary: kubo.binary });
    const ipfs = { kubo: { url: daemon.apiUrl } };
    dtas.push(await startDta('dta-1', { root, swarmKey: '', trustedProposers: [], peers: [], ipfs }));
    for (const name of ['dta-2', 'dta-3']) dtas.push(await startDta(name, { root, swarmKey: '', trustedProposers: [dtas[0]!.id], peers: [], ipfs }));
  }, 600_000);

  afterAll(async () => {
    await Promise.all(dtas.map((dta) => dta.server.stop()));
    await daemon?.stop();
    killAllPeers();
    rmSync(root, { recursive: true, force: true });
  });

  async function propose(realmId: string): Promise<void> {
    const created = await jsonRequest(`${dtas[0]!.server.url}/v1/realms`, {
      bearer: DTA_ADMIN_TOKEN,
      json: { realmId, members: dtas.map((d) => d.id), threshold: 2, mfaService: dtas[0]!.id },
    });
    expect(created.status).toBe(202);
  }

  async function expectActiveEverywhere(realmId: string): Promise<void> {
    for (const dta of dtas) {
      await waitFor(`${dta.name} has ${realmId} active`, async () => (await jsonRequest(`${dta.server.url}/v1/realms/${realmId}`)).body['state'] === 'active', 300_000, 500).catch(async (error: unknown) => {
        const states = await Promise.all(dtas.map(async (d) => `${d.name}: ${JSON.stringify((await jsonRequest(`${d.server.url}/v1/realms/${realmId}`)).body)}`));
        const logs = dtas.map((d) => `${d.name}:\n${d.server.logs.filter((l) => l['level'] !== 30 || String(l['msg']).match(/realm|dkg|messag/i)).slice(-15).map((l) => JSON.stringify(l)).join('\n')}`);
        throw new Error(`${(error as Error).message}\n${states.join('\n')}\n${logs.join('\n')}`, { cause: error });
      });
    }
    const keys = await Promise.all(dtas.map(async (dta) => (await jsonRequest(`${dta.server.url}/v1/realms/${realmId}`)).body['groupPublicKey']));
    expect(new Set(keys).size).toBe(1);
    for (const dta of dtas) {
      await waitFor(`${dta.name} has nothing unacknowledged`, async () => {
        const text = await (await fetch(`${dta.server.url}/metrics`)).text();
        return /^milagro_messaging_unacknowledged_envelopes 0$/m.test(text);
      }, 120_000, 500);
    }
  }

  it('a DKG survives the daemon being killed mid-round', async () => {
    await propose('through-a-kubo-crash');
    await new Promise((resolve) => setTimeout(resolve, 300)); // the proposal and first bundles are on their way
    await daemon.restart({ kill: true, downMs: 3_000 });
    await expectActiveEverywhere('through-a-kubo-crash');
  }, 600_000);

  it('a realm proposed right after a graceful restart completes', async () => {
    await daemon.restart({ downMs: 1_000 });
    await propose('after-a-kubo-restart');
    await expectActiveEverywhere('after-a-kubo-restart');
  }, 600_000);
});

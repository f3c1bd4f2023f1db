/**
 * Issue 12, faults, custody across a real network link: three custody operators (t = 2), operator-3
 * on its own "host", a Linux network namespace joined to the others by a veth pair
 * (tools/jest/netns.ts), HTTP and libp2p on its veth address only. The vault's DKG runs with all
 * three online, and operator-3 coordinates one signature; then its link goes down (both directions
 * silent). While it lasts:
 *
 * - message signing requests, coordinated by operator-1 and operator-2 in turn, complete with the two
 *   of them; each one sent again to either of them is refused (`REQUEST_REPLAYED`);
 * - the requests to operator-3 wait, unacknowledged, at the coordinators, which retry;
 * - split brain: the first request, already signed by the two, is sent to operator-3 from its side of
 *   the cut; it takes the request id and coordinates, but finds no second signer.
 *
 * After the heal operator-3 catches up: the others refuse its split-brain request (their ids are
 * consumed), but the result of that request reaches operator-3 too (every operator gets it, spec §5),
 * so operator-3 checks it (principal's signature, its policy, the signature under the vault's key)
 * and records it signed, marked `learnedFrom` operator-1; its split-brain answer is that signature, or
 * a refusal when its deadline came first. It records every other request it missed as signed, with
 * the same signature as the others; sent to it again, each is refused. A new request
 * coordinated by operator-3 signs with it as one of the two, and is then refused everywhere. Across the three messengers every
 * envelope sent was acknowledged and received exactly once. Every operator's record of every request
 * (its API, and its audit chain read by the principal) holds one signature per request id, the same
 * everywhere and valid under the vault's key: no request was signed twice.
 *
 * Needs root for `ip netns`; skipped with the reason otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToBase64url } from '@milagro/crypto';
import { generateSwarmKey } from '@milagro/ipfs';
import { schnorr } from '@noble/curves/secp256k1.js';
import { startOperator, type OperatorProcess } from '../../../apps/custody-server/test/support/custody-cluster.js';
import { jsonRequest } from '../../jest/dta-cluster.js';
import { metricValue, waitForMessagingSettled } from '../../jest/messaging-metrics.js';
import { createNetworkNamespace, jsonRequestInNamespace, networkNamespacesUnavailable, type NetworkNamespace } from '../../jest/netns.js';
import { killAllPeers, spawnPeer, waitFor, type PeerProcess } from '../../jest/peer-process.js';

const PRINCIPAL = join(__dirname, '..', '..', '..', 'apps', 'custody-server', 'test', 'support', 'principal-peer.ts');
const VAULT = 'cut-off';
/** Requests signed while operator-3 is cut off, coordinated by operator-1 and operator-2 in turn. */
const DURING_PARTITION = 4;

const unavailable = networkNamespacesUnavailable();
if (unavailable !== undefined) console.warn(`skipping the custody network-namespace partition drill: ${unavailable}`);

interface SignedRequest {
  /** The body POSTed to `/signatures`: sending it again is a replay. */
  readonly body: Record<string, unknown>;
  readonly requestId: string;
  readonly message: Uint8Array;
}

(unavailable === undefined ? describe : describe.skip)(`a custody operator in a network namespace, partitioned and healed${unavailable === undefined ? '' : ` (skipped: ${unavailable})`}`, () => {
  let root: string;
  let swarmKey: string;
  let netns: NetworkNamespace;
  const operators: OperatorProcess[] = [];
  let principal: PeerProcess;
  let outputKey: string;
  const requests: SignedRequest[] = [];
  /** Coordinated by operator-3 before the partition. */
  let beforeTheCut: SignedRequest;
  /** operator-3's answer to the first request, sent to it from inside its namespace during the partition. */
  let splitBrain: Promise<{ status: number; body: Record<string, unknown> }> | undefined;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'milagro-custody-netns-'));
    swarmKey = generateSwarmKey();
    netns = createNetworkNamespace();
    // operator-1 and operator-2 in the root namespace: libp2p on loopback and on the link's root end.
    const listen = ['/ip4/127.0.0.1/tcp/0', `/ip4/${netns.hostAddress}/tcp/0`];
    operators.push(await startOperator('operator-1', { root, swarmKey, peers: [], listen }));
    operators.push(await startOperator('operator-2', { root, swarmKey, peers: operators[0]!.addrs, listen }));
    const overTheLink = operators.flatMap((o) => o.addrs).filter((a) => a.startsWith(`/ip4/${netns.hostAddress}/`));
    operators.push(await startOperator('operator-3', { root, swarmKey, peers: overTheLink, netns }));
    principal = await spawnPeer({ entry: PRINCIPAL, config: { dataDir: join(root, 'principal'), swarmKey }, timeoutMs: 180_000 });
    for (const operator of operators) await principal.request('dial', { addr: operator.addrs[0] });

    // The DKG needs every operator: the vault is made before the partition.
    const ids = principal.ready['ids'] as Record<'principal' | 'approver-1' | 'approver-2', string>;
    const definition = {
      vaultId: VAULT,
      principal: ids.principal,
      operators: operators.map((o) => o.id),
      threshold: 2,
      policy: { approvers: [ids['approver-1'], ids['approver-2']], approvals: 1, maxAmountSats: 60_000, destinations: [], allowMessages: true },
    };
    const { signature } = await principal.request<{ signature: string }>('signVault', { definition });
    expect((await jsonRequest(`${operators[0]!.server.url}/v1/vaults`, { json: { definition, signature } })).status).toBe(202);
    for (const operator of operators) await waitFor(`${operator.name} has the vault active`, async () => (await vaultAt(operator))['state'] === 'active', 300_000, 500);
    const keys = new Set(await Promise.all(operators.map(async (o) => (await vaultAt(o))['outputKey'])));
    expect(keys.size).toBe(1);
    outputKey = String([...keys][0]);

    // operator-3 coordinates one signature before the cut: it has resolved the principal's and the
    // approvers' identities, which it needs to check a request while cut off from the PKI.
    const request = await newRequest(0x01);
    const answer = await submit(operators[2]!, request);
    expect({ status: answer.status, state: answer.body['state'] }).toEqual({ status: 200, state: 'signed' });
    expect(answer.body['signers']).toContain(3);
    beforeTheCut = { ...request, requestId: String(answer.body['requestId']) };
  }, 900_000);

  afterAll(async () => {
    netns?.heal();
    await Promise.all(operators.map((o) => o.server.stop()));
    killAllPeers();
    netns?.remove();
    rmSync(root, { recursive: true, force: true });
  });

  async function vaultAt(operator: OperatorProcess): Promise<Record<string, unknown>> {
    return (await jsonRequest(`${operator.server.url}/v1/vaults/${VAULT}`)).body;
  }

  /** A fresh message request signed by the principal with one approval (the vault's policy). */
  async function newRequest(seed: number): Promise<SignedRequest> {
    const message = new Uint8Array(32).fill(seed);
    const body = await principal.request<Record<string, unknown>>('spend', { vaultId: VAULT, kind: 'message', payload: bytesToBase64url(message), approvals: 1 });
    return { body, requestId: '', message };
  }

  async function submit(at: OperatorProcess, request: SignedRequest): Promise<{ status: number; body: Record<string, unknown> }> {
    return jsonRequest(`${at.server.url}/v1/vaults/${VAULT}/signatures`, { json: request.body, signal: AbortSignal.timeout(300_000) });
  }

  async function expectReplayRefused(at: OperatorProcess, request: SignedRequest): Promise<void> {
    const again = await submit(at, request);
    expect({ at: at.name, status: again.status, code: again.body['code'] }).toEqual({ at: at.name, status: 409, code: 'REQUEST_REPLAYED' });
  }

  async function recordAt(operator: OperatorProcess, requestId: string): Promise<{ status: number; body: Record<string, unknown> }> {
    return jsonRequest(`${operator.server.url}/v1/vaults/${VAULT}/requests/${requestId}`);
  }

  function verifies(signature: string, message: Uint8Array): boolean {
    return schnorr.verify(Buffer.from(signature, 'hex'), message, Buffer.from(outputKey, 'hex'));
  }

  it('signs with the two reachable operators while operator-3 is cut off, and refuses every replay', async () => {
    const [first, second, third] = operators as [OperatorProcess, OperatorProcess, OperatorProcess];
    const reannounced = async () => (await Promise.all([first, second].map((o) => metricValue(o.server.url, 'milagro_messaging_events_total', 'event="reannounced"')))).reduce((a, b) => a + b, 0);
    const reannouncedBefore = await reannounced();
    netns.partition();
    // The cut is real: operator-3 does not answer from the root namespace.
    await expect(jsonRequest(`${third.server.url}/v1/node`, { signal: AbortSignal.timeout(3_000) })).rejects.toThrow();

    for (let i = 0; i < DURING_PARTITION; i += 1) {
      const coordinator = i % 2 === 0 ? first : second;
      const request = await newRequest(0x10 + i);
      const answer = await submit(coordinator, request);
      expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 200, body: { state: 'signed', signers: [1, 2] } });
      const signatures = answer.body['signatures'] as string[];
      expect(signatures).toHaveLength(1);
      expect(verifies(signatures[0]!, request.message)).toBe(true);
      requests.push({ ...request, requestId: String(answer.body['requestId']) });
      // The same request id again, to the coordinator and to the other signer: refused, never signed twice.
      for (const at of [first, second]) await expectReplayRefused(at, request);
    }
    // What was sent to operator-3 waits at the coordinators, which announce it again (into the void).
    for (const at of [first, second]) await waitFor(`envelopes to operator-3 unacknowledged at ${at.name}`, async () => (await metricValue(at.server.url, 'milagro_messaging_unacknowledged_envelopes')) >= 1, 120_000, 500);
    await waitFor('the coordinators retry towards operator-3', async () => (await reannounced()) >= reannouncedBefore + 2, 120_000, 1_000);

    // Split brain: the first request, signed already, reaches operator-3 from its own side of the cut.
    // It takes the request id (its record exists) and waits for a second operator that cannot come.
    const [signedFirst] = requests as [SignedRequest];
    splitBrain = jsonRequestInNamespace(netns, `${third.server.url}/v1/vaults/${VAULT}/signatures`, { json: signedFirst.body, timeoutMs: 400_000 });
    let settled: { status: number } | undefined;
    void splitBrain.then((answer) => (settled = answer), () => (settled = { status: -1 }));
    await waitFor(
      'operator-3 took the split-brain request id',
      async () => settled !== undefined || (await jsonRequestInNamespace(netns, `${third.server.url}/v1/vaults/${VAULT}/requests/${signedFirst.requestId}`)).status === 200,
      120_000,
      1_000,
    );
    expect(settled).toBeUndefined();
  }, 900_000);

  it('after the heal, operator-3 catches up, refuses the replays, signs again, and every envelope is delivered once', async () => {
    const third = operators[2]!;
    expect(requests).toHaveLength(DURING_PARTITION);
    netns.heal();
    await waitFor('operator-3 answers again', async () => (await jsonRequest(`${third.server.url}/v1/node`, { signal: AbortSignal.timeout(3_000) }).catch(() => ({ status: 0 }))).status === 200, 120_000, 1_000);

    // The others refuse operator-3's split-brain request, but operator-1's result of it reaches operator-3,
    // which checks it and records it signed: its answer carries that signature, unless its own deadline
    // came first (then it is refused or failed there until the result arrives).
    const [signedFirst, ...missed] = requests as [SignedRequest, ...SignedRequest[]];
    const splitBrainAnswer = await splitBrain!;
    expect([200, 409, 502]).toContain(splitBrainAnswer.status);
    const firstSignature = String(((await recordAt(operators[0]!, signedFirst.requestId)).body['signatures'] as string[])[0]);
    if (splitBrainAnswer.status === 200) expect(splitBrainAnswer.body['signatures']).toEqual([firstSignature]);
    else expect(splitBrainAnswer.body['signatures']).toBeUndefined();
    let lastSplit: unknown;
    await waitFor(
      'operator-3 records its split-brain request as signed by the others',
      async () => {
        const record = await recordAt(third, signedFirst.requestId);
        lastSplit = record.body;
        return record.body['state'] === 'signed';
      },
      300_000,
      1_000,
    ).catch((error: unknown) => {
      throw new Error(`operator-3's split-brain record: ${JSON.stringify(lastSplit)}`, { cause: error });
    });
    const learnt = (await recordAt(third, signedFirst.requestId)).body;
    expect({ signatures: learnt['signatures'], learnedFrom: learnt['learnedFrom'] }).toEqual({ signatures: [firstSignature], learnedFrom: operators[0]!.id });
    expect(verifies(firstSignature, signedFirst.message)).toBe(true);
    await expectReplayRefused(third, signedFirst);

    // operator-3 receives what it missed: each request (its id now consumed there) and its result.
    for (const request of missed) {
      let last: unknown;
      await waitFor(
        `operator-3 records request ${request.requestId} as signed`,
        async () => {
          const record = await recordAt(third, request.requestId);
          last = record.body;
          return record.status === 200 && record.body['state'] === 'signed';
        },
        300_000,
        1_000,
      ).catch((error: unknown) => {
        throw new Error(`operator-3's record: ${JSON.stringify(last)}`, { cause: error });
      });
      await expectReplayRefused(third, request);
    }

    // Every operator's record of every request (operator-3's split-brain one included): signed, one
    // signature per request id, valid under the vault's key.
    for (const request of requests) {
      const signatures = new Set<string>();
      for (const operator of operators) {
        const record = await recordAt(operator, request.requestId);
        expect({ at: operator.name, status: record.status, signed: record.body['state'] === 'signed' }).toEqual({ at: operator.name, status: 200, signed: true });
        for (const signature of (record.body['signatures'] as string[] | undefined) ?? []) signatures.add(signature);
      }
      expect(signatures.size).toBe(1);
      expect(verifies([...signatures][0]!, request.message)).toBe(true);
    }

    // operator-3 signs again, as one of the two (it coordinates); the request then signs nowhere else.
    const request = await newRequest(0x77);
    const answer = await submit(third, request);
    expect({ status: answer.status, state: answer.body['state'] }).toEqual({ status: 200, state: 'signed' });
    expect(answer.body['signers']).toContain(3);
    expect(answer.body['signers']).toHaveLength(2);
    expect(verifies((answer.body['signatures'] as string[])[0]!, request.message)).toBe(true);
    // Once every operator has recorded it signed (the result reached them), none signs it again.
    for (const at of operators) {
      await waitFor(`${at.name} records the new request as signed`, async () => (await recordAt(at, String(answer.body['requestId']))).body['state'] === 'signed', 180_000, 1_000);
      await expectReplayRefused(at, request);
    }

    // Every envelope acknowledged, and every envelope sent received exactly once (all recipients are operators).
    await waitForMessagingSettled(operators.map((o) => o.server.url));

    // Every operator's audit chain (read by the principal, to whom it is sealed) records each request
    // signed exactly once, with the signature the API returned: nothing signed twice, differently.
    const expected = new Map([beforeTheCut, ...requests, { ...request, requestId: String(answer.body['requestId']) }].map((r) => [r.requestId, r]));
    const signatureOf = new Map([...expected.keys()].map((id) => [id, new Set<string>()]));
    await principal.request('dial', { addr: third.addrs[0] });
    for (const operator of operators) {
      let signed: Array<{ requestId: string; signatures: string[] }> = [];
      let last: unknown;
      await waitFor(
        `${operator.name}'s audit chain records every request signed`,
        async () => {
          const head = (await vaultAt(operator))['auditHead'];
          if (typeof head !== 'string') return false;
          // A block not fetched in time is fetched on the next poll.
          const entries = await principal
            .request<Array<{ kind: string; requestId: string | null; signatures: string[] | null }>>('auditChain', { operator: operator.id, head }, 120_000)
            .catch((error: unknown) => void (last = error));
          if (entries === undefined) return false;
          signed = entries.filter((e) => e.kind === 'spend-signed').map((e) => ({ requestId: String(e.requestId), signatures: e.signatures ?? [] }));
          return [...expected.keys()].every((id) => signed.some((e) => e.requestId === id));
        },
        180_000,
        1_000,
      ).catch((error: unknown) => {
        throw new Error(`${operator.name}'s audit chain: ${JSON.stringify(signed)}, last error ${String(last)}`, { cause: error });
      });
      expect(signed.map((e) => e.requestId).sort()).toEqual([...expected.keys()].sort());
      for (const entry of signed) for (const signature of entry.signatures) signatureOf.get(entry.requestId)!.add(signature);
    }
    for (const [requestId, signatures] of signatureOf) {
      expect({ requestId, signatures: signatures.size }).toEqual({ requestId, signatures: 1 });
      expect(verifies([...signatures][0]!, expected.get(requestId)!.message)).toBe(true);
    }
  }, 900_000);
});

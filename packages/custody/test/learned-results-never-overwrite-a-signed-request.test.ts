/**
 * `CustodyRepository.recordLearned` (ADR 0022), on SQLite and on PostgreSQL (when its server
 * binaries are installed): a result learnt from another operator inserts the request (consuming its
 * id), replaces this operator's own `signing`/`failed`/`refused` state, and never overwrites a
 * request already `signed` here; the learnt fields survive the round trip.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlDatabase } from '@milagro/storage';
import { sqlAdaptersUnderTest } from '../../../tools/jest/test-database.js';
import { CustodyRepository, type SignResult } from '../src/custody-repository.js';

jest.setTimeout(120_000);

const signature = (byte: number): Uint8Array => new Uint8Array(64).fill(byte);
const learnt = (byte: number, extra: Partial<SignResult> = {}): SignResult => ({ signatures: [signature(byte)], signers: [1, 2], blamed: [], learnedFrom: 'bafy-coordinator', ...extra });

describe.each(sqlAdaptersUnderTest())('learnt signing results (%s)', (adapter, databases) => {
  if (databases.reportIfMissing(`custody learnt results on ${adapter}`)) return;
  let root: string;
  let db: SqlDatabase;
  let repository: CustodyRepository;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'milagro-custody-learnt-'));
    db = await (await databases.newLocation(join(root, 'custody.db'))).open();
    repository = await CustodyRepository.open(db);
  });

  afterAll(async () => {
    await db?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('inserts an unknown request as signed, consuming its id', async () => {
    expect(await repository.recordLearned('v', 'a'.repeat(32), { state: 'signed', result: learnt(1) }, 1)).toBe(true);
    const stored = await repository.request('v', 'a'.repeat(32));
    expect(stored).toMatchObject({ state: 'signed', result: { signers: [1, 2], learnedFrom: 'bafy-coordinator' } });
    expect(Buffer.from(stored!.result!.signatures[0]!)).toEqual(Buffer.from(signature(1)));
    expect(await repository.consumeRequest('v', 'a'.repeat(32), 2)).toBe(false);
  });

  it("replaces this operator's own failed or refused state", async () => {
    for (const [id, own] of [['b'.repeat(32), 'failed'], ['c'.repeat(32), 'refused']] as const) {
      expect(await repository.consumeRequest('v', id, 1)).toBe(true);
      await repository.finishRequest('v', id, { state: own, reason: 'no second signer' }, 2);
      expect(await repository.recordLearned('v', id, { state: 'signed', result: learnt(2) }, 3)).toBe(true);
      const stored = await repository.request('v', id);
      expect({ state: stored?.state, reason: stored?.reason }).toEqual({ state: 'signed', reason: undefined });
    }
  });

  it('records a policy conflict as refused with the signatures', async () => {
    const id = 'd'.repeat(32);
    expect(await repository.recordLearned('v', id, { state: 'refused', reason: 'policy conflict: …', result: learnt(3, { policyConflict: 'POLICY_REFUSED: 0 valid approval(s)' }) }, 1)).toBe(true);
    expect(await repository.request('v', id)).toMatchObject({ state: 'refused', reason: 'policy conflict: …', result: { policyConflict: 'POLICY_REFUSED: 0 valid approval(s)' } });
  });

  it('never overwrites a request signed here', async () => {
    const id = 'e'.repeat(32);
    expect(await repository.consumeRequest('v', id, 1)).toBe(true);
    await repository.finishRequest('v', id, { state: 'signed', result: { signatures: [signature(4)], signers: [1, 3], blamed: [] } }, 2);
    expect(await repository.recordLearned('v', id, { state: 'signed', result: learnt(5) }, 3)).toBe(false);
    expect(await repository.recordLearned('v', id, { state: 'refused', reason: 'policy conflict', result: learnt(5) }, 3)).toBe(false);
    const stored = await repository.request('v', id);
    expect(stored?.state).toBe('signed');
    expect(stored?.result?.learnedFrom).toBeUndefined();
    expect(Buffer.from(stored!.result!.signatures[0]!)).toEqual(Buffer.from(signature(4)));
  });
});

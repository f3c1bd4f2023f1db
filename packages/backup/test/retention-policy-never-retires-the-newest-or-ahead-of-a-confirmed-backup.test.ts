/**
 * The retention policy (`selectForRetirement`): keep the `keep` newest backups, retire an older one
 * only behind a newer backup that k fiduciaries pinned, never the newest, never twice.
 */
import fc from 'fast-check';
import { selectForRetirement, type RetentionCandidate } from '../src/index.js';

const backup = (n: number, confirmed = true, retired = false): RetentionCandidate => ({ manifest: `m${n}`, created: n * 1000, confirmed, retired });

describe('selectForRetirement', () => {
  it('keeps the newest `keep` and retires the rest behind a confirmed newest', () => {
    const backups = [1, 2, 3, 4, 5].map((n) => backup(n));
    expect(selectForRetirement(backups, 2)).toEqual(['m3', 'm2', 'm1']);
    expect(selectForRetirement(backups, 5)).toEqual([]);
    expect(selectForRetirement(backups, 7)).toEqual([]);
    // The order given does not matter: `created` does.
    expect(selectForRetirement([...backups].reverse(), 4)).toEqual(['m1']);
  });

  it('retires nothing while no backup is confirmed, and nothing newer than the newest confirmed', () => {
    expect(selectForRetirement([backup(1, false), backup(2, false), backup(3, false)], 1)).toEqual([]);
    // The two newest lack confirmations: keep=1 still keeps them, and m3 (confirmed) too.
    expect(selectForRetirement([backup(1), backup(2), backup(3), backup(4, false), backup(5, false)], 1)).toEqual(['m2', 'm1']);
  });

  it('does not select what is already retired', () => {
    expect(selectForRetirement([backup(1, true, true), backup(2), backup(3), backup(4)], 2)).toEqual(['m2']);
  });

  it('retires a failed run\'s deposit behind a newer confirmed backup without counting it toward keep', () => {
    const failed = { ...backup(3, false), failed: true };
    expect(selectForRetirement([backup(1), backup(2), failed, backup(4)], 2)).toEqual(['m3', 'm1']);
    // Not while no newer backup is confirmed (m2 is, so m1 behind it goes; the failed m3 is newer than m2 and stays).
    expect(selectForRetirement([backup(1), backup(2), failed, backup(4, false)], 2)).toEqual(['m1']);
    // A failed run's deposit is never the confirmed one behind which others go.
    expect(selectForRetirement([backup(1, false), backup(2, false), { ...backup(3), failed: true }], 1)).toEqual([]);
  });

  it('refuses a keep below 1 or not whole, naming the rule', () => {
    expect(() => selectForRetirement([backup(1)], 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/keep .*at least 1.*newest backup is never retired/) }));
    expect(() => selectForRetirement([backup(1)], 1.5)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('property: never the newest, never one newer than the newest confirmed, never among the keep newest', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ created: fc.integer({ min: 0, max: 1000 }), confirmed: fc.boolean(), retired: fc.boolean(), failed: fc.boolean() }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 10 }),
        (rows, keep) => {
          const backups = rows.map((row, i) => ({ manifest: `m${i}`, ...row }));
          const selected = selectForRetirement(backups, keep);
          const order = backups.map((b, i) => ({ b, i })).sort((x, y) => y.b.created - x.b.created || x.i - y.i).map(({ b }) => b);
          const newestConfirmed = order.findIndex((b) => b.confirmed && !b.failed);
          for (const manifest of selected) {
            const position = order.findIndex((b) => b.manifest === manifest);
            const inChainBefore = order.slice(0, position).filter((b) => !b.failed).length;
            if (!order[position]!.failed) expect(inChainBefore).toBeGreaterThanOrEqual(keep);
            expect(position).toBeGreaterThan(newestConfirmed);
            expect(newestConfirmed).toBeGreaterThanOrEqual(0);
            expect(order[position]!.retired).toBe(false);
          }
          expect(new Set(selected).size).toBe(selected.length);
        },
      ),
    );
  });
});

import { CryptoError } from '../src/errors.js';
import { randomBytes } from '../src/random.js';

test('returns exactly the requested length, including 0 and beyond the 64 KiB getRandomValues quota', () => {
  for (const n of [0, 1, 32, 65_536, 65_537, 200_000]) expect(randomBytes(n)).toHaveLength(n);
});

test('every 64 KiB block of a large request is filled (none left zero)', () => {
  const bytes = randomBytes(4 * 65_536 + 100);
  for (let off = 0; off < bytes.length; off += 65_536) {
    const block = bytes.subarray(off, Math.min(off + 65_536, bytes.length));
    expect(block.some((b) => b !== 0)).toBe(true);
  }
});

test('output is not constant and roughly uniform (a smoke test, not a statistical proof)', () => {
  const bytes = randomBytes(1 << 16);
  const counts = new Array<number>(256).fill(0);
  for (const b of bytes) counts[b]!++;
  // Expected 256 per value; a working CSPRNG stays within ±40 % with overwhelming probability.
  expect(Math.min(...counts)).toBeGreaterThan(150);
  expect(Math.max(...counts)).toBeLessThan(360);
  expect(randomBytes(32)).not.toEqual(randomBytes(32));
});

test.each([-1, 1.5, Number.NaN, Infinity, '8' as unknown as number])('length %p is INVALID_ARGUMENT', (n) => {
  expect(() => randomBytes(n)).toThrow(CryptoError);
  expect(() => randomBytes(n)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
});

test('without a platform CSPRNG it refuses instead of falling back', () => {
  const original = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true });
  try {
    expect(() => randomBytes(8)).toThrow(expect.objectContaining({ code: 'BACKEND_UNAVAILABLE' }));
  } finally {
    Object.defineProperty(globalThis, 'crypto', original as PropertyDescriptor);
  }
});

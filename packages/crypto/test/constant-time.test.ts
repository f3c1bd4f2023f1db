import fc from 'fast-check';
import { constantTimeEqual } from '../src/constant-time.js';

type Compare = (a: Uint8Array, b: Uint8Array) => boolean;

/** Loads constant-time.ts in a fresh module registry as if on a runtime without node:crypto. */
function loadWithoutNodeCrypto(): Compare {
  const proc = process as unknown as { getBuiltinModule?: unknown };
  const original = proc.getBuiltinModule;
  proc.getBuiltinModule = undefined;
  try {
    let fn: Compare | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh module instance needs require inside isolateModules
      fn = (require('../src/constant-time.js') as { constantTimeEqual: Compare }).constantTimeEqual;
    });
    return fn as Compare;
  } finally {
    proc.getBuiltinModule = original;
  }
}

const portable = loadWithoutNodeCrypto();

describe.each<[string, Compare]>([
  ['node:crypto timingSafeEqual', constantTimeEqual],
  ['portable loop', portable],
])('constantTimeEqual via %s', (_, equal) => {
  test('equal arrays are equal, including empty ones and distinct buffers', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (a) => {
        expect(equal(a, a.slice())).toBe(true);
      }),
    );
    expect(equal(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });

  test('any single differing bit makes them unequal', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (a, where, bit) => {
        const b = a.slice();
        b[where % b.length]! ^= 1 << bit;
        expect(equal(a, b)).toBe(false);
      }),
    );
  });

  test('different lengths are unequal (length is not secret)', () => {
    expect(equal(new Uint8Array(3), new Uint8Array(4))).toBe(false);
    expect(equal(new Uint8Array(0), new Uint8Array(1))).toBe(false);
  });

  test('views into larger buffers compare only their own bytes', () => {
    const big = Uint8Array.from([9, 1, 2, 3, 9]);
    expect(equal(big.subarray(1, 4), Uint8Array.from([1, 2, 3]))).toBe(true);
  });
});

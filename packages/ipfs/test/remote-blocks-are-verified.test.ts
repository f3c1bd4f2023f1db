/**
 * A remote backend (Kubo over HTTP) is not trusted to return the bytes a CID names: verifyBlock accepts
 * only bytes that hash to the CID, and refuses a CID under a hash it cannot check instead of passing
 * the block through unchecked.
 */
import fc from 'fast-check';
import { CID } from 'multiformats/cid';
import { identity } from 'multiformats/hashes/identity';
import { sha512 } from 'multiformats/hashes/sha2';
import { IpfsError } from '../src/errors.js';
import { cidOf, verifyBlock } from '../src/block.js';

const expectCode = async (promise: Promise<unknown>, code: string): Promise<void> => {
  await expect(promise).rejects.toBeInstanceOf(IpfsError);
  await expect(promise).rejects.toMatchObject({ code });
};

describe('verifyBlock', () => {
  it('accepts exactly the bytes a sha2-256 CID names (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
        await expect(verifyBlock(await cidOf(bytes), bytes)).resolves.toBeUndefined();
      }),
      { numRuns: 50 },
    );
  });

  it('refuses any other bytes with INVALID_DATA (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), fc.uint8Array({ maxLength: 512 }), async (named, returned) => {
        fc.pre(Buffer.compare(Buffer.from(named), Buffer.from(returned)) !== 0);
        await expectCode(verifyBlock(await cidOf(named), returned), 'INVALID_DATA');
      }),
      { numRuns: 50 },
    );
  });

  it('refuses CIDs under hashes it does not check with UNSUPPORTED, even when the bytes match', async () => {
    const bytes = new TextEncoder().encode('not sha2-256');
    await expectCode(verifyBlock(CID.createV1(0x55, await sha512.digest(bytes)), bytes), 'UNSUPPORTED');
    // The identity "hash" embeds the bytes themselves: still refused, never returned unchecked.
    await expectCode(verifyBlock(CID.createV1(0x55, identity.digest(bytes)), bytes), 'UNSUPPORTED');
  });
});

/**
 * Properties of the decoders: archives of any files round-trip through pack and unpack, however the
 * stream is sliced; any mangled archive either unpacks or is refused with `MALFORMED` / `TRUNCATED`
 * and never writes outside its target; message bodies and manifests of any shape decode or are
 * refused with `MALFORMED`, and valid ones round-trip.
 */
import * as dagCbor from '@ipld/dag-cbor';
import fc from 'fast-check';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { isBackupError, packArchive, unpackArchive, decodeManifest, type ArchiveFile } from '../src/index.js';
import { decodeManifestNotice, decodeRefusal, decodeRelease, decodeReleaseRequest, encodeRelease, encodeReleaseRequest } from '../src/backup-messages.js';

const RUNS = 60;
const SOME_CID = CID.parse('bafyreigdxezo7hb6id5f4xa5t4ovvfragfpuozvm2z5lkdpw5y4mbmteje');

const segment = fc.stringMatching(/^[a-z0-9._-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
const path = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
const files = fc.uniqueArray(fc.record({ path, bytes: fc.uint8Array({ maxLength: 3000 }) }), { maxLength: 6, selector: (f) => f.path })
  // a path that is also a directory of another cannot be a file
  .filter((list) => list.every((a) => list.every((b) => a === b || !b.path.startsWith(`${a.path}/`))));

function asArchiveFiles(list: ReadonlyArray<{ path: string; bytes: Uint8Array }>): ArchiveFile[] {
  return list.map(({ path, bytes }) => ({ path, mode: 0o600, size: bytes.length, read: async function* () { yield bytes; } }));
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return new Uint8Array(Buffer.concat(parts));
}

async function* sliced(bytes: Uint8Array, cuts: readonly number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const cut of cuts) {
    const end = Math.min(bytes.length, at + cut);
    yield bytes.subarray(at, end);
    at = end;
  }
  if (at < bytes.length) yield bytes.subarray(at);
}

async function treeOf(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out[join(entry.parentPath, entry.name).slice(dir.length + 1)] = Buffer.from(await readFile(join(entry.parentPath, entry.name))).toString('hex');
  }
  return out;
}

describe('archive', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'milagro-archive-props-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));
  let n = 0;

  it('round-trips any files, however the stream is sliced', async () => {
    await fc.assert(
      fc.asyncProperty(files, fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 40 }), async (list, cuts) => {
        const bytes = await collect(packArchive(asArchiveFiles(list)));
        const dir = join(root, `rt-${n++}`);
        const unpacked = await unpackArchive(sliced(bytes, cuts), (p) => join(dir, p));
        expect(unpacked.files).toBe(list.length);
        const expected = Object.fromEntries(list.map((f) => [f.path, Buffer.from(f.bytes).toString('hex')]));
        expect(list.length === 0 ? {} : await treeOf(dir)).toEqual(expected);
      }),
      { numRuns: RUNS },
    );
  });

  it('a mangled or cut archive unpacks or is refused, and writes only under its target', async () => {
    await fc.assert(
      fc.asyncProperty(files, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), async (list, where, value, cut) => {
        const bytes = await collect(packArchive(asArchiveFiles(list)));
        const at = where % bytes.length;
        const mangled = cut ? bytes.subarray(0, at) : Uint8Array.from(bytes, (b, i) => (i === at ? value : b));
        const dir = join(root, `m-${n++}`);
        const written: string[] = [];
        try {
          await unpackArchive(sliced(mangled, [97]), (p) => {
            written.push(p);
            return join(dir, p);
          });
        } catch (error) {
          if (!isBackupError(error, 'MALFORMED') && !isBackupError(error, 'TRUNCATED') && (error as NodeJS.ErrnoException).code !== 'EEXIST' && (error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
        }
        for (const p of written) expect(p.split('/').every((s) => s !== '' && s !== '.' && s !== '..')).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('message bodies and manifests', () => {
  const decoders = { decodeManifestNotice, decodeRefusal, decodeRelease, decodeReleaseRequest, decodeManifest: (b: Uint8Array) => {
    let value: unknown;
    try {
      value = dagCbor.decode(b);
    } catch {
      return; // a manifest comes from getDag, already decoded
    }
    decodeManifest(value);
  } };
  const value = fc.letrec((tie) => ({
    any: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 40 }), fc.constant(SOME_CID), fc.array(tie('any'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('v', 'manifest', 'issued', 'proof', 'code', 'message', 'group', 'index', 'header', 'value', 'audit', 'node', 'x'), tie('any'), { maxKeys: 8 })),
  })).any;

  it.each(Object.keys(decoders))('%s decodes or refuses with MALFORMED', (name) => {
    const decode = decoders[name as keyof typeof decoders];
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), value.map((v) => dagCbor.encode(v))), (bytes) => {
        try {
          decode(bytes);
        } catch (error) {
          if (!isBackupError(error, 'MALFORMED')) throw error;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('valid release requests and releases round-trip', () => {
    fc.assert(
      fc.property(fc.nat(), fc.uint8Array({ minLength: 3373, maxLength: 3373 }), fc.integer({ min: 1, max: 255 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (issued, proof, index, value32) => {
        expect(decodeReleaseRequest(encodeReleaseRequest({ manifest: SOME_CID, issued, proof }))).toEqual({ manifest: SOME_CID, issued, proof });
        const release = { manifest: SOME_CID, share: { group: 0, index, header: value32, value: value32 }, audit: SOME_CID };
        expect(decodeRelease(encodeRelease(release))).toEqual(release);
      }),
      { numRuns: 50 },
    );
  });
});

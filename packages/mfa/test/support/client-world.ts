/**
 * What the client tests run against: a real MFA service over HTTP (real sqlite file, real JWTs) and
 * three D-TAs (t = 2) that issue real client-secret shares over HTTP, sealed to the client's X-Wing
 * key in the D-TA wire format. Their maths and sealing are @milagro/mpin's, which is what @milagro/dta
 * runs; mfa may not import dta, not even in tests (tools/boundaries). Grants here are
 * SHA-256(identity) ‖ position; the real signed grants are @milagro/dta's and tested there.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64urlToBytes, bytesToBase64url, concatBytes, constantTimeEqual, sha256 } from '@milagro/crypto';
import { createHttpServer, type ListeningHttpServer } from '@milagro/http';
import { MemoryKeyStore } from '@milagro/keystore';
import { issueClientShare, sealShare, type MpinSuite } from '@milagro/mpin';
import type { SqlDatabase } from '@milagro/storage';
import { openTestDatabase } from '../../../../tools/jest/test-database.js';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { DevelopmentOutbox, MfaService, createMfaApi, emailActivation, keyStoreTokenSigner, staticServerSecret, type GrantIssuer } from '../../src/index.js';
import { createRealm, removeDir, testSuite, type Realm } from './mfa-world.js';

export type DtaBehaviour = 'issue' | 'refuse' | 'tamper';

/** A D-TA's client-share route: checks the grant, issues s_i·H(ID), seals it to `sealTo`. */
export class TestDta {
  behaviour: DtaBehaviour = 'issue';
  requests = 0;
  url = '';
  #server: Server | undefined;

  constructor(
    readonly position: number,
    readonly id: string,
    readonly master: { index: bigint; share: Uint8Array },
    readonly suite: MpinSuite,
  ) {}

  async start(): Promise<void> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((done) => this.#server!.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Stops listening: requests to its URL are refused, as for a D-TA that is down. */
  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((done) => this.#server?.close(done));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests += 1;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { grant: string; identity: string; sealTo: string };
    const identity = base64urlToBytes(body.identity);
    const grantOk = req.url === '/v1/realms/acme/client-shares' && constantTimeEqual(base64urlToBytes(body.grant), grantToken(identity, this.position));
    if (!grantOk || this.behaviour === 'refuse') {
      res.writeHead(403, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ status: 403, code: 'GRANT_INVALID' }));
      return;
    }
    const share = issueClientShare(this.suite, this.master.share, identity);
    const sealed = await sealShare(base64urlToBytes(body.sealTo), share, { realmId: 'acme', dta: this.id, identityHash: sha256(identity), epoch: 0, index: this.master.index });
    const ciphertext = sealed.ciphertext.slice();
    if (this.behaviour === 'tamper') ciphertext[5]! ^= 0x40;
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({ realmId: 'acme', epoch: 0, index: Number(this.master.index), sealed: { enc: bytesToBase64url(sealed.enc), ciphertext: bytesToBase64url(ciphertext) } }),
    );
  }
}

/** The test grant for the D-TA at `position` (1-based). */
export function grantToken(identity: Uint8Array, position: number): Uint8Array {
  return concatBytes(sha256(identity), Uint8Array.of(position));
}

export interface ClientWorld {
  readonly suite: MpinSuite;
  readonly realm: Realm;
  readonly dtas: readonly TestDta[];
  readonly url: string;
  readonly outbox: DevelopmentOutbox;
  /** The activation code of the newest e-mail to `userId`. */
  codeFor(userId: string): string;
  close(): Promise<void>;
}

export async function startClientWorld(): Promise<ClientWorld> {
  const suite = await testSuite();
  const realm = await createRealm();
  const dtas = realm.masterShares.map((master, i) => new TestDta(i + 1, `bafy-test-dta-${i + 1}`, master, suite));
  for (const dta of dtas) await dta.start();
  // The URL is read on every issue, so a D-TA restarted on a new port is found.
  const grants: GrantIssuer = {
    lifetimeSeconds: 300,
    issue: async (identity) => dtas.map((dta) => ({ dta: dta.id, url: dta.url, token: grantToken(identity, dta.position) })),
  };
  const dir = mkdtempSync(join(tmpdir(), 'mfa-client-test-'));
  const db: SqlDatabase = await openTestDatabase({ path: join(dir, 'mfa.db') });
  const outbox = new DevelopmentOutbox();
  const logger = pino({ level: 'silent' });
  const registry = new Registry();
  const service = await MfaService.open({
    db,
    realm: { id: 'acme', threshold: 2 },
    suite,
    serverSecret: staticServerSecret({ serverSecret: realm.serverSecret, groupPublicKey: realm.groupPublicKey }),
    grants,
    activation: emailActivation({ transport: outbox, from: 'login@acme.example', link: (code) => `http://demo.invalid/activate#code=${code}` }),
    tokenSigner: await keyStoreTokenSigner(new MemoryKeyStore()),
    issuer: 'https://login.acme.example',
    limits: { sessionTtlSeconds: 600 },
    registry,
    logger,
  });
  await service.start();
  const http: ListeningHttpServer = await createHttpServer({ apis: [createMfaApi(service)], ready: { 'server-secret': () => service.isReady() }, logger, metrics: { registry } }).listen({ port: 0 });
  http.server.keepAliveTimeout = 30_000;
  return {
    suite,
    realm,
    dtas,
    url: http.url,
    outbox,
    codeFor(userId) {
      const text = outbox.messages(userId).at(-1)?.text ?? '';
      const match = /#code=([A-Za-z0-9_-]+)/.exec(text);
      if (match === null) throw new Error(`no activation link for ${userId} in the outbox`);
      return match[1]!;
    },
    async close() {
      await http.close();
      await service.close();
      await db.close();
      for (const dta of dtas) await dta.stop();
      removeDir(dir);
    },
  };
}

/**
 * The webhook verifier against a real HTTP server playing the relying party: the body is a JWT
 * (EdDSA, `typ` `activation+jwt`) that verifies against the service's JWKS and carries the code;
 * a refusal, an unreachable endpoint, a slow one or a redirect fail the delivery, and a redirect is
 * never followed (the code would go to a URL nobody configured).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { MemoryKeyStore } from '@milagro/keystore';
import { isMfaError, keyStoreTokenSigner, publicJwk, verifyJwt, webhookActivation, type AccessTokenSigner } from '../src/index.js';

interface Received {
  readonly path: string;
  readonly type: string | undefined;
  readonly body: string;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ url: string; server: Server; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', type: req.headers['content-type'], body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`, server, received };
}

const request = { reference: 'ref-123', userId: 'alice@example.org', deviceName: 'laptop', code: 'c29tZSBhY3RpdmF0aW9uIGNvZGU', expiresAt: Math.floor(Date.now() / 1000) + 900 };

async function deliveryError(promise: Promise<void>): Promise<unknown> {
  return promise.then(() => undefined, (error: unknown) => error);
}

describe('webhook activation', () => {
  let signer: AccessTokenSigner;
  const servers: Server[] = [];
  beforeAll(async () => {
    signer = await keyStoreTokenSigner(new MemoryKeyStore());
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('POSTs a JWT the relying party verifies against the JWKS, carrying the code', async () => {
    const rp = await listen((_req, res) => res.writeHead(204).end());
    servers.push(rp.server);
    await webhookActivation({ url: `${rp.url}/milagro/activation`, signer, issuer: 'https://login.acme.example' }).deliver(request);
    expect(rp.received).toHaveLength(1);
    const [hit] = rp.received as [Received];
    expect([hit.path, hit.type]).toEqual(['/milagro/activation', 'application/jwt']);
    const claims = verifyJwt(hit.body, [publicJwk(signer)], { issuer: 'https://login.acme.example', nowSeconds: Math.floor(Date.now() / 1000), typ: 'activation+jwt' }) as unknown as Record<string, unknown>;
    expect(claims).toMatchObject({ reference: 'ref-123', userId: 'alice@example.org', deviceName: 'laptop', code: request.code, exp: request.expiresAt });
    // Not an access token: a verifier expecting `typ` JWT refuses it.
    expect(verifyJwt(hit.body, [publicJwk(signer)], { issuer: 'https://login.acme.example', nowSeconds: Math.floor(Date.now() / 1000) })).toBeUndefined();
  });

  it('fails the delivery on a refusal, an unreachable endpoint or a timeout, without the code in the message', async () => {
    const refusing = await listen((_req, res) => res.writeHead(500).end('no'));
    const slow = await listen(() => undefined);
    servers.push(refusing.server, slow.server);
    const closed = await listen(() => undefined);
    await new Promise((resolve) => closed.server.close(resolve));
    for (const [url, timeoutMs] of [[refusing.url, 10_000], [closed.url, 10_000], [slow.url, 300]] as const) {
      const error = await deliveryError(webhookActivation({ url, signer, issuer: 'iss', timeoutMs }).deliver(request));
      expect(isMfaError(error, 'ACTIVATION_DELIVERY_FAILED')).toBe(true);
      expect(String((error as Error).message)).not.toContain(request.code);
    }
    slow.server.closeAllConnections();
  });

  it('never follows a redirect: the delivery fails and the other URL receives nothing', async () => {
    const elsewhere = await listen((_req, res) => res.writeHead(204).end());
    const redirecting = await listen((_req, res) => res.writeHead(307, { location: `${elsewhere.url}/steal` }).end());
    servers.push(elsewhere.server, redirecting.server);
    const error = await deliveryError(webhookActivation({ url: redirecting.url, signer, issuer: 'iss' }).deliver(request));
    expect(isMfaError(error, 'ACTIVATION_DELIVERY_FAILED')).toBe(true);
    expect(elsewhere.received).toHaveLength(0);
  });
});

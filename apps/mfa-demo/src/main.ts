/**
 * `milagro-mfa-demo --mfa <MFA server URL> [--port 8090] [--host 127.0.0.1]`: a relying party for the
 * ZKP MFA service. The page (src/page/app.ts) registers this browser with the client SDK (credential
 * in IndexedDB), shows the activation link from the MFA server's development outbox, sets a PIN
 * and logs in; the access token it gets is exchanged here for a session cookie after checking it
 * against the service's JWKS, and `/protected` is served only with that cookie. Logging out ends
 * the cookie session and revokes the token at the MFA server.
 *
 * A demo: sessions are in memory and the cookie is not `Secure` (it runs on http://127.0.0.1).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { verifyJwt, type Ed25519Jwk } from '@milagro/mfa';
import { bundlePage } from './page-bundle.js';
import { escapeHtml, indexPage, protectedPage } from './pages.js';

const { values } = parseArgs({ options: { mfa: { type: 'string' }, port: { type: 'string', default: '8090' }, host: { type: 'string', default: '127.0.0.1' }, issuer: { type: 'string' } } });
if (values.mfa === undefined) throw new Error('usage: milagro-mfa-demo --mfa <MFA server URL> [--port 8090] [--host 127.0.0.1] [--issuer <iss of its tokens>]');
const mfaUrl = values.mfa.replace(/\/+$/, '');
/** `iss` the service's tokens carry (its `mfa.issuer`); the MFA URL by default. */
const issuer = values.issuer ?? mfaUrl;
const script = await bundlePage();

const COOKIE = 'demo_session';
const SESSION_SECONDS = 15 * 60;
interface Session {
  readonly userId: string;
  readonly accessToken: string;
  readonly expiresAt: number;
}
const sessions = new Map<string, Session>();

async function jwks(): Promise<Ed25519Jwk[]> {
  const response = await fetch(`${mfaUrl}/.well-known/jwks.json`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
  return ((await response.json()) as { keys: Ed25519Jwk[] }).keys;
}

function sessionOf(req: IncomingMessage): [string, Session] | undefined {
  const id = /(?:^|;\s*)demo_session=([A-Za-z0-9_-]{43})(?:;|$)/.exec(req.headers.cookie ?? '')?.[1];
  const session = id === undefined ? undefined : sessions.get(id);
  if (id === undefined || session === undefined) return undefined;
  if (session.expiresAt <= Date.now() / 1000) {
    sessions.delete(id);
    return undefined;
  }
  return [id, session];
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 16_384) throw new Error('body too large');
  }
  return JSON.parse(text) as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    // The page talks to the MFA server and to the D-TAs the service names, on any origin.
    'content-security-policy': "default-src 'self'; connect-src 'self' http: https:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ...headers,
  });
  res.end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://demo').pathname;
  if (req.method === 'GET' && path === '/') return send(res, 200, 'text/html; charset=utf-8', indexPage());
  if (req.method === 'GET' && path === '/app.js') return send(res, 200, 'text/javascript; charset=utf-8', script);
  if (req.method === 'GET' && path === '/config.json') return send(res, 200, 'application/json', JSON.stringify({ mfaUrl }));
  if (req.method === 'POST' && path === '/session') {
    // The page hands over the access token from the login; a valid one becomes a cookie session.
    const { accessToken } = await readJson(req);
    const claims = typeof accessToken === 'string' ? verifyJwt(accessToken, await jwks(), { issuer, nowSeconds: Math.floor(Date.now() / 1000) }) : undefined;
    if (claims === undefined || typeof accessToken !== 'string') return send(res, 401, 'application/json', JSON.stringify({ error: 'invalid access token' }));
    const id = randomBytes(32).toString('base64url');
    sessions.set(id, { userId: claims.sub, accessToken, expiresAt: Math.floor(Date.now() / 1000) + SESSION_SECONDS });
    return send(res, 204, 'text/plain', '', { 'set-cookie': `${COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_SECONDS}` });
  }
  if (req.method === 'GET' && path === '/protected') {
    const session = sessionOf(req);
    if (session === undefined) return send(res, 303, 'text/plain', '', { location: '/' });
    return send(res, 200, 'text/html; charset=utf-8', protectedPage(escapeHtml(session[1].userId)));
  }
  if (req.method === 'POST' && path === '/logout') {
    const session = sessionOf(req);
    if (session !== undefined) {
      sessions.delete(session[0]);
      await fetch(`${mfaUrl}/v1/logout`, { method: 'POST', headers: { authorization: `Bearer ${session[1].accessToken}` }, signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    }
    return send(res, 303, 'text/plain', '', { location: '/', 'set-cookie': `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0` });
  }
  send(res, 404, 'text/plain', 'not found');
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => send(res, 500, 'text/plain', 'internal error'));
});
server.listen(Number(values.port), values.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : Number(values.port);
  // One JSON line, like the other servers (tests wait for it).
  process.stdout.write(`${JSON.stringify({ level: 30, msg: 'listening', url: `http://${values.host}:${port}`, mfa: mfaUrl })}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => server.close(() => process.exit(0)));

/**
 * The SMTP transport against a real SMTP server (aiosmtpd, Debian's python3-aiosmtpd, in its own
 * process): plain delivery, STARTTLS with a private CA and AUTH PLAIN, and the refusals a security
 * product owes its operators: an untrusted certificate, wrong credentials, credentials without TLS,
 * header injection. The activation verifier's e-mail goes through it with the code intact.
 */
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { emailActivation } from '../src/activation.js';
import { SmtpError, smtpTransport } from '../src/smtp-transport.js';

const PYTHON = '/usr/bin/python3';
const SERVER = join(__dirname, 'support', 'smtp_server.py');
const hasAiosmtpd = existsSync('/usr/lib/python3/dist-packages/aiosmtpd/__init__.py');
if (!hasAiosmtpd && process.env['CI'] !== undefined) throw new Error('python3-aiosmtpd is missing (tools/system-deps.txt installs it in CI)');
const describeWithServer = hasAiosmtpd ? describe : describe.skip;
if (!hasAiosmtpd) console.warn('smtp transport: skipped, Debian package python3-aiosmtpd is missing');

interface Received {
  readonly from: string;
  readonly to: string[];
  readonly data: string;
  readonly tls: boolean;
}

interface SmtpServer {
  readonly port: number;
  readonly received: Received[];
  next(): Promise<Received>;
  stop(): void;
}

async function startServer(args: string[]): Promise<SmtpServer> {
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, [SERVER, ...args]);
  const received: Received[] = [];
  let waiter: (() => void) | undefined;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const ready = /^READY (\d+)$/.exec(line);
      if (ready !== null) resolve(Number(ready[1]));
      else {
        received.push(JSON.parse(line) as Received);
        waiter?.();
      }
    });
    child.once('exit', (code) => reject(new Error(`SMTP server exited (${code}): ${stderr}`)));
  });
  return {
    port,
    received,
    async next() {
      const count = received.length;
      while (received.length === count) await new Promise<void>((resolve) => (waiter = resolve));
      return received.at(-1) as Received;
    },
    stop: () => child.kill(),
  };
}

/** The decoded text body of a received message. */
function bodyOf(data: string): string {
  const [, body = ''] = data.split(/\r?\n\r?\n/, 2).length === 2 ? data.split(/\r?\n\r?\n/) : ['', ''];
  return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
}

async function failure(promise: Promise<unknown>): Promise<SmtpError> {
  const error = await promise.then(() => undefined, (reason: unknown) => reason);
  expect(error).toBeInstanceOf(SmtpError);
  return error as SmtpError;
}

describeWithServer('SMTP transport (aiosmtpd)', () => {
  let dir: string;
  let ca: string;
  let plain: SmtpServer;
  let secure: SmtpServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'smtp-test-'));
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    ca = readFileSync(cert, 'utf8');
    [plain, secure] = await Promise.all([startServer([]), startServer(['--cert', cert, '--key', key, '--auth', 'mailer:correct horse battery'])]);
  }, 30_000);

  afterAll(() => {
    plain?.stop();
    secure?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers a UTF-8 message to a relay without TLS', async () => {
    const transport = smtpTransport({ host: '127.0.0.1', port: plain.port, security: 'none', clientName: 'mfa.test' });
    const arriving = plain.next();
    await transport.send({ from: 'login@acme.example', to: 'zoë@example.org'.replace('ë', 'e'), subject: 'Aktivieren Sie Ihr Gerät', text: 'Grüße\nline two\n.\n' });
    const message = await arriving;
    expect(message.from).toBe('login@acme.example');
    expect(message.to).toEqual(['zoe@example.org']);
    expect(message.data).toContain('Subject: =?UTF-8?B?');
    expect(bodyOf(message.data)).toBe('Grüße\r\nline two\r\n.\r\n');
  });

  it('upgrades with STARTTLS, checks the certificate against the CA, authenticates, and carries the activation code', async () => {
    const transport = smtpTransport({ host: 'localhost', port: secure.port, tls: { ca }, auth: { user: 'mailer', password: 'correct horse battery' }, clientName: 'mfa.test' });
    const verifier = emailActivation({ transport, from: 'login@acme.example', link: (code) => `https://login.acme.example/activate#code=${code}` });
    const arriving = secure.next();
    await verifier.deliver({ reference: 'ref-1', userId: 'alice@example.org', deviceName: 'laptop', code: 'Zm9vYmFyYmF6cXV4cXV1eA', expiresAt: 1_900_000_000 });
    const message = await arriving;
    expect(message.tls).toBe(true);
    expect(message.to).toEqual(['alice@example.org']);
    expect(bodyOf(message.data)).toContain('https://login.acme.example/activate#code=Zm9vYmFyYmF6cXV4cXV1eA');
  });

  it('refuses a server certificate it cannot verify, and sends nothing', async () => {
    const count = secure.received.length;
    const error = await failure(smtpTransport({ host: 'localhost', port: secure.port, auth: { user: 'mailer', password: 'correct horse battery' } }).send({ from: 'a@b.example', to: 'c@d.example', subject: 's', text: 'secret code' }));
    expect(error.step).toBe('STARTTLS');
    expect(secure.received.length).toBe(count);
  });

  it('reports wrong credentials with the reply code and without the password', async () => {
    const error = await failure(smtpTransport({ host: 'localhost', port: secure.port, tls: { ca }, auth: { user: 'mailer', password: 'wrong password 123' } }).send({ from: 'a@b.example', to: 'c@d.example', subject: 's', text: 't' }));
    expect([error.step, error.replyCode]).toEqual(['AUTH', 535]);
    expect(error.message).not.toContain('wrong password 123');
  });

  it('refuses to send credentials without TLS, a server without STARTTLS, and header injection', async () => {
    expect(() => smtpTransport({ host: '127.0.0.1', port: plain.port, security: 'none', auth: { user: 'u', password: 'p' } })).toThrow(SmtpError);
    const noStarttls = await failure(smtpTransport({ host: '127.0.0.1', port: plain.port }).send({ from: 'a@b.example', to: 'c@d.example', subject: 's', text: 't' }));
    expect(noStarttls.step).toBe('STARTTLS');
    const transport = smtpTransport({ host: '127.0.0.1', port: plain.port, security: 'none' });
    for (const message of [
      { from: 'a@b.example', to: 'c@d.example\r\nBcc: e@f.example', subject: 's', text: 't' },
      { from: 'a@b.example', to: 'c@d.example', subject: 's\r\nBcc: e@f.example', text: 't' },
      { from: 'a@b.example>', to: 'c@d.example', subject: 's', text: 't' },
    ]) {
      expect((await failure(transport.send(message))).step).toBe('message');
    }
  });
});

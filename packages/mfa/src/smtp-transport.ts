/**
 * A {@link MailTransport} over SMTP (RFC 5321) for activation e-mail: one connection per message,
 * STARTTLS (RFC 3207) or implicit TLS with certificate checks, AUTH PLAIN (RFC 4616) only over TLS,
 * a plain-text UTF-8 body in base64 (so no line of it can end the DATA phase or break a 998-octet
 * limit), and headers checked against injection. Errors name the SMTP step and reply code, never
 * the message (which carries an activation code) or the credentials.
 */
import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { hostname as machineName } from 'node:os';
import { randomBytes } from 'node:crypto';
import { connect as connectTls, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { MailMessage, MailTransport } from './activation.js';

export interface SmtpTransportOptions {
  readonly host: string;
  /** Default 587 for `starttls`, 465 for `tls`, 25 for `none`. */
  readonly port?: number;
  /**
   * `starttls` (default): plain connection upgraded with STARTTLS, which the server must offer.
   * `tls`: TLS from the first byte (port 465). `none`: no encryption (a relay on localhost or a
   * test server); credentials are then refused.
   */
  readonly security?: 'starttls' | 'tls' | 'none';
  readonly auth?: { readonly user: string; readonly password: string };
  /** Extra TLS options (e.g. `ca` for a private CA). Certificates are always verified. */
  readonly tls?: Pick<ConnectionOptions, 'ca' | 'servername'>;
  /** Name sent in EHLO; default this machine's host name. */
  readonly clientName?: string;
  /** Deadline of one whole delivery; default 30 s. */
  readonly timeoutMs?: number;
}

/** An SMTP delivery failure: the step, the reply code when there was one. */
export class SmtpError extends Error {
  override readonly name = 'SmtpError';
  constructor(
    readonly step: string,
    readonly replyCode: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Sends activation e-mail through an SMTP server (submission with STARTTLS by default). */
export function smtpTransport(options: SmtpTransportOptions): MailTransport {
  const security = options.security ?? 'starttls';
  if (options.auth !== undefined && security === 'none') throw new SmtpError('configure', undefined, 'SMTP credentials are only sent over TLS: use security "starttls" or "tls"');
  const port = options.port ?? (security === 'tls' ? 465 : security === 'starttls' ? 587 : 25);
  const clientName = options.clientName ?? machineName();
  checkHeaderValue('clientName', clientName);
  return {
    send: (message) => deliver({ ...options, security, port, clientName }, message),
  };
}

type Resolved = SmtpTransportOptions & { readonly security: 'starttls' | 'tls' | 'none'; readonly port: number; readonly clientName: string };

async function deliver(options: Resolved, message: MailMessage): Promise<void> {
  for (const [name, value] of [['from', message.from], ['to', message.to], ['subject', message.subject]] as const) checkHeaderValue(name, value);
  for (const [name, value] of [['from', message.from], ['to', message.to]] as const) checkAddress(name, value);
  const tlsOptions: ConnectionOptions = { servername: isIP(options.host) === 0 ? options.host : undefined, ...options.tls, rejectUnauthorized: true };
  let socket: Socket | TLSSocket =
    options.security === 'tls' ? connectTls({ host: options.host, port: options.port, ...tlsOptions }) : connectTcp({ host: options.host, port: options.port });
  const deadline = setTimeout(() => socket.destroy(new SmtpError('timeout', undefined, `SMTP delivery took longer than ${options.timeoutMs ?? 30_000} ms`)), options.timeoutMs ?? 30_000);
  let session = new SmtpSession(socket);
  try {
    await session.expect('greeting', 220);
    let extensions = await session.ehlo(options.clientName);
    if (options.security === 'starttls') {
      if (!extensions.has('STARTTLS')) throw new SmtpError('STARTTLS', undefined, 'the SMTP server does not offer STARTTLS');
      await session.command('STARTTLS', 'STARTTLS', 220);
      session.detach();
      socket = await upgrade(socket, tlsOptions);
      session = new SmtpSession(socket);
      extensions = await session.ehlo(options.clientName);
    }
    if (options.auth !== undefined) {
      const mechanisms = (extensions.get('AUTH') ?? '').toUpperCase().split(/\s+/);
      if (!mechanisms.includes('PLAIN')) throw new SmtpError('AUTH', undefined, 'the SMTP server does not offer AUTH PLAIN');
      const credentials = Buffer.from(`\0${options.auth.user}\0${options.auth.password}`, 'utf8').toString('base64');
      await session.command('AUTH', `AUTH PLAIN ${credentials}`, 235);
    }
    await session.command('MAIL FROM', `MAIL FROM:<${message.from}>${extensions.has('SMTPUTF8') && !isAscii(message.from + message.to) ? ' SMTPUTF8' : ''}`, 250);
    await session.command('RCPT TO', `RCPT TO:<${message.to}>`, 250, 251);
    await session.command('DATA', 'DATA', 354);
    await session.command('message', `${formatMessage(message, options.clientName)}\r\n.`, 250);
    await session.command('QUIT', 'QUIT', 221).catch(() => undefined);
  } finally {
    clearTimeout(deadline);
    socket.destroy();
  }
}

function upgrade(socket: Socket, options: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = connectTls({ ...options, socket }, () => {
      secure.off('error', reject);
      resolve(secure);
    });
    secure.once('error', (error) => reject(new SmtpError('STARTTLS', undefined, `TLS handshake failed: ${error.message}`)));
  });
}

/** Reads replies (possibly multi-line) and writes commands on one socket. */
class SmtpSession {
  readonly #socket: Socket;
  #buffer = '';
  #lines: string[] = [];
  #waiting: (() => void) | undefined;
  #failure: Error | undefined;
  readonly #onData = (chunk: Buffer): void => {
    this.#buffer += chunk.toString('utf8');
    let end: number;
    while ((end = this.#buffer.indexOf('\r\n')) >= 0) {
      this.#lines.push(this.#buffer.slice(0, end));
      this.#buffer = this.#buffer.slice(end + 2);
    }
    this.#waiting?.();
  };
  readonly #onEnd = (error?: Error): void => {
    this.#failure ??= error instanceof SmtpError ? error : new SmtpError('connection', undefined, error === undefined ? 'the SMTP server closed the connection' : `SMTP connection failed: ${error.message}`);
    this.#waiting?.();
  };

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', this.#onData);
    socket.on('error', this.#onEnd);
    socket.on('close', () => this.#onEnd());
  }

  /** Stops reading (before a TLS upgrade takes the socket over). */
  detach(): void {
    this.#socket.off('data', this.#onData);
    this.#socket.removeAllListeners('error');
    this.#socket.removeAllListeners('close');
  }

  async ehlo(name: string): Promise<Map<string, string>> {
    const lines = await this.command('EHLO', `EHLO ${name}`, 250);
    const extensions = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const [keyword = '', ...rest] = line.split(' ');
      extensions.set(keyword.toUpperCase(), rest.join(' '));
    }
    return extensions;
  }

  async command(step: string, text: string, ...accept: number[]): Promise<string[]> {
    this.#socket.write(`${text}\r\n`);
    return this.expect(step, ...accept);
  }

  /** The next reply; rejects unless its code is one of `accept`. Returns the reply's texts. */
  async expect(step: string, ...accept: number[]): Promise<string[]> {
    const texts: string[] = [];
    for (;;) {
      const line = await this.#nextLine();
      const match = /^(\d{3})([ -])(.*)$/.exec(line);
      if (match === null) throw new SmtpError(step, undefined, `malformed SMTP reply after ${step}`);
      texts.push(match[3] as string);
      if (match[2] === ' ') {
        const code = Number(match[1]);
        if (!accept.includes(code)) throw new SmtpError(step, code, `SMTP ${step} refused: ${code} ${printable(texts.join(' '))}`);
        return texts;
      }
    }
  }

  async #nextLine(): Promise<string> {
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) return line;
      if (this.#failure !== undefined) throw this.#failure;
      await new Promise<void>((resolve) => (this.#waiting = resolve));
      this.#waiting = undefined;
    }
  }
}

/** The message as RFC 5322 text: UTF-8 body in base64 lines of 76, RFC 2047 subject when not ASCII. */
function formatMessage(message: MailMessage, clientName: string): string {
  const domain = /@([^@>]+)$/.exec(message.from)?.[1] ?? clientName;
  const subject = isAscii(message.subject) ? message.subject : `=?UTF-8?B?${Buffer.from(message.subject, 'utf8').toString('base64')}?=`;
  const body = Buffer.from(message.text.replace(/\r?\n/g, '\r\n'), 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    `From: <${message.from}>`,
    `To: <${message.to}>`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${randomBytes(16).toString('hex')}@${domain}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    body,
  ].join('\r\n');
}

function checkHeaderValue(name: string, value: string): void {
  if (typeof value !== 'string' || /[\r\n\0]/.test(value) || value.length > 900) throw new SmtpError('message', undefined, `${name} must be one line of at most 900 characters`);
}

function checkAddress(name: string, value: string): void {
  if (!/^[^\s<>()[\],;:"\\@]+@[^\s<>()[\],;:"\\@]+$/.test(value)) throw new SmtpError('message', undefined, `${name} is not a plain e-mail address (local@domain)`);
}

function isAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

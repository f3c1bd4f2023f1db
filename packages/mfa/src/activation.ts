/**
 * Activation verifiers: how a user proves control of the user id they register. Pluggable, one per
 * service: e-mail (through a {@link MailTransport}), a webhook to the relying party, or an operator's
 * approval. A verifier that delivers a code is the only place the code goes; it is never logged.
 */
import { MfaError } from './errors.js';
import { signJwt, type AccessTokenSigner } from './access-token.js';

/** What a verifier is asked to deliver for one pending registration. */
export interface ActivationRequest {
  /** Public name of the registration (operators, messages). */
  readonly reference: string;
  readonly userId: string;
  readonly deviceName: string;
  /** The activation code: secret, single-use, valid until `expiresAt`. */
  readonly code: string;
  /** Unix seconds. */
  readonly expiresAt: number;
}

/** A way to verify registrations. */
export interface ActivationVerifier {
  /** `code`: the device must present the delivered code; `approval`: an operator approves, no code. */
  readonly method: 'code' | 'approval';
  /** Delivers the code (or notifies); rejects when delivery failed, which fails the registration request. */
  deliver(request: ActivationRequest): Promise<void>;
}

/** One e-mail. */
export interface MailMessage {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/**
 * Sends e-mail: `smtpTransport` (STARTTLS or TLS, AUTH PLAIN) in production;
 * {@link DevelopmentOutbox} keeps messages in memory for tests and demos.
 */
export interface MailTransport {
  send(message: MailMessage): Promise<void>;
}

/** A mail transport that delivers nowhere: it keeps the messages for tests and the demo page. Never use it in production. */
export class DevelopmentOutbox implements MailTransport {
  readonly #messages: Array<MailMessage & { readonly sentAt: number }> = [];
  readonly #capacity: number;

  constructor(options: { capacity?: number } = {}) {
    this.#capacity = options.capacity ?? 100;
  }

  async send(message: MailMessage): Promise<void> {
    this.#messages.push({ ...message, sentAt: Date.now() });
    if (this.#messages.length > this.#capacity) this.#messages.shift();
  }

  /** Messages kept, oldest first; only those to `to` when given. */
  messages(to?: string): Array<MailMessage & { readonly sentAt: number }> {
    return this.#messages.filter((message) => to === undefined || message.to === to);
  }
}

/** Options of {@link emailActivation}. */
export interface EmailActivationOptions {
  readonly transport: MailTransport;
  readonly from: string;
  /** The activation link for a code, e.g. `(code) => \`https://login.example/activate#code=${code}\`` (a fragment stays out of server logs). */
  readonly link?: (code: string) => string;
  readonly subject?: string;
}

/** Activation by e-mail: the user id is the address; the code (and link) go there. */
export function emailActivation(options: EmailActivationOptions): ActivationVerifier {
  return {
    method: 'code',
    async deliver(request) {
      const lines = [
        `Someone asked to register the device "${request.deviceName}" for ${request.userId}.`,
        '',
        options.link === undefined ? `Your activation code: ${request.code}` : `Activate it here: ${options.link(request.code)}`,
        '',
        `The code works once, until ${new Date(request.expiresAt * 1000).toISOString()}. Reference: ${request.reference}.`,
        'If this was not you, ignore this message.',
      ];
      try {
        await options.transport.send({ from: options.from, to: request.userId, subject: options.subject ?? 'Activate your device', text: lines.join('\n') });
      } catch (error) {
        throw new MfaError('ACTIVATION_DELIVERY_FAILED', 'the activation e-mail could not be sent', { cause: error });
      }
    },
  };
}

/** Options of {@link webhookActivation}. */
export interface WebhookActivationOptions {
  /** The relying party's endpoint (https in production). */
  readonly url: string;
  /** The service's token signer: the body is a JWT the relying party checks against the JWKS. */
  readonly signer: AccessTokenSigner;
  /** `iss` of the JWT: the service's issuer name. */
  readonly issuer: string;
  readonly timeoutMs?: number;
  /** For tests; default global `fetch`. */
  readonly fetch?: typeof fetch;
}

/**
 * Activation by the relying party: POSTs a signed JWT (`typ` `activation+jwt`) with the code; the
 * relying party delivers it to its user by its own channel. A non-2xx answer fails the registration.
 */
export function webhookActivation(options: WebhookActivationOptions): ActivationVerifier {
  const send = options.fetch ?? fetch;
  return {
    method: 'code',
    async deliver(request) {
      const now = Math.floor(Date.now() / 1000);
      const body = await signJwt(
        options.signer,
        // `sub` and `jti` make it a JWT that standard verifiers (and `verifyJwt` with `typ`) accept.
        { iss: options.issuer, sub: request.userId, jti: request.reference, iat: now, exp: request.expiresAt, reference: request.reference, userId: request.userId, deviceName: request.deviceName, code: request.code },
        'activation+jwt',
      );
      let status: number;
      try {
        const response = await send(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/jwt' },
          body,
          // Never follow a redirect: it would carry the activation code to a URL nobody configured.
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
        status = response.status;
        await response.body?.cancel();
      } catch (error) {
        throw new MfaError('ACTIVATION_DELIVERY_FAILED', 'the activation webhook could not be reached', { cause: error });
      }
      if (status < 200 || status > 299) throw new MfaError('ACTIVATION_DELIVERY_FAILED', `the activation webhook answered ${status}`);
    },
  };
}

/** Activation by an operator (`POST /v1/admin/registrations/{reference}/approval`); nothing is delivered. */
export function adminApproval(): ActivationVerifier {
  return { method: 'approval', deliver: async () => undefined };
}

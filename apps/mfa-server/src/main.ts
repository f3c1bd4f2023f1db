/**
 * `milagro-mfa-server --config mfa.json`: the ZKP MFA service of one realm. Builds the node
 * (@milagro/node: key store, embedded IPFS, identity, messaging, SQLite), receives the server-secret
 * shares from the realm's D-TAs, signs grants for its clients, mounts the MFA routes on the HTTP kit,
 * listens, and shuts down cleanly on SIGTERM/SIGINT. `/readyz` turns 200 once t server-secret shares
 * are combined and self-checked. Logs are JSON lines (pino) without secrets.
 */
import { readFileSync } from 'node:fs';
import { HttpApi, createHttpServer } from '@milagro/http';
import {
  DevelopmentOutbox,
  MfaService,
  adminApproval,
  createMfaApi,
  emailActivation,
  keyStoreTokenSigner,
  smtpTransport,
  webhookActivation,
  type AccessTokenSigner,
  type ActivationVerifier,
} from '@milagro/mfa';
import { createSuite } from '@milagro/mpin';
import { bootstrapNode, createCurveBackend, onShutdownSignals, readSecret } from '@milagro/node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { z } from 'zod';
import { loadConfig, type MfaServerConfig } from './config.js';
import { dtaGrantIssuer } from './dta-grants.js';
import { DtaServerSecretSource } from './dta-server-secret.js';

const config = loadConfig();
const logger = pino({ name: 'milagro-mfa', level: config.log.level });
const { mfa } = config;

const infrastructure = await bootstrapNode(config, { identityLabelPrefix: 'mfa', databaseFile: 'mfa.sqlite' });
const { identity, ipfs, keyStore, messenger } = infrastructure;
const suite = createSuite({ suite: 'modern', backend: await createCurveBackend(config.curveBackend) });
const tokenSigner = await keyStoreTokenSigner(keyStore);
const developmentOutbox = mfa.activation.kind === 'development-outbox' ? new DevelopmentOutbox() : undefined;

function activationVerifier(settings: MfaServerConfig['mfa']['activation'], signer: AccessTokenSigner): ActivationVerifier {
  switch (settings.kind) {
    case 'development-outbox': {
      const link = settings.link;
      return emailActivation({
        transport: developmentOutbox as DevelopmentOutbox,
        from: settings.from,
        ...(link === undefined ? {} : { link: (code: string) => link.replaceAll('{code}', encodeURIComponent(code)) }),
      });
    }
    case 'email': {
      const { link, smtp } = settings;
      return emailActivation({
        transport: smtpTransport({
          host: smtp.host,
          security: smtp.security,
          ...(smtp.port === undefined ? {} : { port: smtp.port }),
          ...(smtp.user === undefined || smtp.password === undefined ? {} : { auth: { user: smtp.user, password: readSecret(smtp.password) } }),
          ...(smtp.caFile === undefined ? {} : { tls: { ca: readFileSync(smtp.caFile, 'utf8') } }),
        }),
        from: settings.from,
        ...(link === undefined ? {} : { link: (code: string) => link.replaceAll('{code}', encodeURIComponent(code)) }),
      });
    }
    case 'webhook':
      return webhookActivation({ url: settings.url, signer, issuer: mfa.issuer, ...(settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs }) });
    case 'admin':
      return adminApproval();
  }
}

const serverSecret = new DtaServerSecretSource({
  suite,
  realmId: mfa.realm.id,
  threshold: mfa.realm.threshold,
  dtas: mfa.realm.dtas,
  send: (to, message) => messenger.send(to, message),
  logger,
});
const inbox = new AbortController();
const inboxDone = (async () => {
  for await (const message of messenger.messages({ signal: inbox.signal })) {
    if (message.type === DtaServerSecretSource.messageType) serverSecret.accept(message);
    else logger.warn({ event: 'message-ignored', from: message.from, type: message.type }, 'message of an unknown type ignored');
    await messenger.consumed(message.position);
  }
})().catch((error: unknown) => {
  if (!inbox.signal.aborted) logger.error({ event: 'inbox-failed', code: (error as { code?: unknown }).code }, 'the inbox loop stopped');
});

const registry = new Registry();
const service = await MfaService.open({
  db: infrastructure.db,
  realm: { id: mfa.realm.id, threshold: mfa.realm.threshold },
  suite,
  serverSecret,
  grants: dtaGrantIssuer({ identity, keyStore, realmId: mfa.realm.id, dtas: mfa.realm.dtas, lifetimeSeconds: mfa.realm.grantLifetimeSeconds }),
  activation: activationVerifier(mfa.activation, tokenSigner),
  tokenSigner,
  issuer: mfa.issuer,
  ...(mfa.audience === undefined ? {} : { audience: mfa.audience }),
  limits: mfa.limits,
  registry,
  logger,
});
void service.start().catch(() => undefined);

/** Who this server is on the network: operators name this identity as the realm's `mfaService`. */
const nodeApi = new HttpApi({ tags: ['node'] });
nodeApi.route({
  method: 'GET',
  path: '/v1/node',
  operationId: 'getNode',
  summary: "This MFA server's identity (the realm's mfaService) and network addresses",
  responses: { 200: { description: 'the node', schema: z.object({ identity: z.string(), head: z.string(), peerId: z.string(), addresses: z.array(z.string()) }) } },
  handler: async () => ({ status: 200, body: { identity: identity.id.toString(), head: identity.head.toString(), peerId: ipfs.peerId, addresses: await ipfs.multiaddrs() } }),
});

let stopping = false;
const server = createHttpServer({
  apis: [createMfaApi(service, { adminToken: readSecret(mfa.adminToken), ...(developmentOutbox === undefined ? {} : { developmentOutbox }) }), nodeApi],
  info: { title: 'Milagro ZKP MFA', version: '0.1.0' },
  logger,
  bodyLimit: config.http.bodyLimit,
  ...(config.http.cors === undefined ? {} : { cors: config.http.cors }),
  ready: { 'server-secret': () => service.isReady() && !stopping },
  metrics: { registry, defaultMetrics: true },
});
const listening = await server.listen({ port: config.http.port, host: config.http.host });
logger.info({ url: listening.url, identity: identity.id.toString(), peerId: ipfs.peerId, realm: mfa.realm.id }, 'listening');

onShutdownSignals(async (signal) => {
  stopping = true;
  logger.info({ signal }, 'shutting down');
  await listening.close();
  inbox.abort();
  await service.close();
  await infrastructure.close();
  await inboxDone;
});

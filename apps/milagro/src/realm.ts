/**
 * `milagro realm create|join|status`: the D-TA ceremony (docs/specs/dta.md) from the command line.
 *
 * - `join --proposer <identity|url>` on every member but the proposer: adds the proposer to
 *   `dta.trustedProposers` in config.yaml (comments kept), since a D-TA accepts a realm proposal only
 *   from a proposer it trusts. A running node reads its config at start: restart it afterwards.
 * - `create <realm> --member <identity|url>... --threshold t --mfa-service <identity|url>` on the
 *   proposer: asks the running node's operator API (`POST /v1/realms`, the admin token from the
 *   config's secret source) to propose the realm and run the DKG; with `--wait`, shows its progress
 *   until it is active here.
 * - `status <realm>`: the realm at this node.
 * Members may be named by a node's URL: its identity is read from its `GET /v1/node`.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { dtaSectionSchema, readSecret } from '@milagro/node';
import { isMap, isSeq, parseDocument } from 'yaml';
import type { MilagroConfig } from './config.js';
import { UsageError } from './exit-codes.js';
import { runningNode } from './status.js';

export interface RealmStatus {
  readonly realmId: string;
  readonly state: 'pending' | 'active' | 'failed' | 'retired';
  readonly members: readonly string[];
  readonly threshold: number;
  readonly epoch: number;
  readonly reason?: string;
  readonly groupPublicKey?: string;
  readonly [key: string]: unknown;
}

/** A realm run that ends badly (exit 1). */
export class RealmError extends Error {
  override readonly name = 'RealmError';
}

async function http(method: 'GET' | 'POST', url: string, options: { bearer?: string; body?: unknown } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...(options.bearer === undefined ? {} : { authorization: `Bearer ${options.bearer}` }) },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new RealmError(`no answer from ${url} (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name})`);
  }
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    // not JSON: the status says enough
  }
  return { status: response.status, body };
}

/** An identity as given, or the identity of the node at a URL. */
async function identityOf(reference: string): Promise<string> {
  if (!/^https?:\/\//.test(reference)) return reference;
  const { status, body } = await http('GET', new URL('/v1/node', reference).toString());
  if (status !== 200 || typeof body['identity'] !== 'string') throw new RealmError(`${reference} did not say its identity (GET /v1/node answered HTTP ${status})`);
  return body['identity'];
}

function requireDta(config: MilagroConfig): void {
  if (!config.roles.includes('dta')) throw new UsageError(`this node's roles are ${config.roles.join(', ')}: realms are run by nodes with the dta role`);
}

function nodeOf(config: MilagroConfig): { readonly pid: number; readonly url: string } {
  requireDta(config);
  const running = runningNode(config);
  if (running === undefined) throw new RealmError(`the node is not running (no live process in ${config.dataDir}): start it with \`milagro start\``);
  return running;
}

export interface RealmCreateOptions {
  readonly realmId: string;
  readonly members: readonly string[];
  readonly threshold: number;
  readonly mfaService: string;
  readonly wait: boolean;
  readonly timeoutMs: number;
}

/** Proposes the realm at the running node (which is listed first unless named); with `wait`, returns once it is active here. */
export async function realmCreate(config: MilagroConfig, options: RealmCreateOptions, progress: (step: string) => void): Promise<RealmStatus> {
  const node = nodeOf(config);
  const adminToken = readSecret((config.dta ?? dtaSectionSchema.parse({})).adminToken);
  const self = await identityOf(node.url);
  const named = await Promise.all(options.members.map(identityOf));
  const members = named.includes(self) ? named : [self, ...named];
  if (new Set(members).size !== members.length) throw new UsageError('--member: a D-TA is named twice');
  if (options.threshold < 1 || options.threshold > members.length) throw new UsageError(`--threshold: expected 1 to ${members.length} (the number of members), found ${options.threshold}`);
  const mfaService = await identityOf(options.mfaService);
  progress(`proposing realm "${options.realmId}" (${options.threshold} of ${members.length}) from ${node.url}`);
  const proposed = await http('POST', new URL('/v1/realms', node.url).toString(), {
    bearer: adminToken,
    body: { realmId: options.realmId, members, threshold: options.threshold, mfaService },
  });
  if (proposed.status !== 202) {
    const detail = typeof proposed.body['detail'] === 'string' ? proposed.body['detail'] : JSON.stringify(proposed.body);
    const message = `the node refused the realm (HTTP ${proposed.status}): ${detail}`;
    throw proposed.status === 400 || proposed.status === 409 ? new UsageError(message) : new RealmError(message);
  }
  if (!options.wait) return proposed.body as unknown as RealmStatus;
  progress('the DKG runs among the members (each must trust this proposer: `milagro realm join`)');
  return waitForRealm(node.url, options.realmId, options.timeoutMs, progress);
}

async function waitForRealm(url: string, realmId: string, timeoutMs: number, progress: (step: string) => void): Promise<RealmStatus> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const { status, body } = await http('GET', new URL(`/v1/realms/${encodeURIComponent(realmId)}`, url).toString());
    const realm = body as unknown as RealmStatus;
    if (status === 200) {
      if (realm.state !== last) progress(`realm "${realmId}": ${realm.state}`);
      last = realm.state;
      if (realm.state === 'active') return realm;
      if (realm.state === 'failed' || realm.state === 'retired') throw new RealmError(`realm "${realmId}" ${realm.state}${realm.reason === undefined ? '' : `: ${realm.reason}`}`);
    }
    if (Date.now() > deadline) throw new RealmError(`realm "${realmId}" not active after ${Math.round(timeoutMs / 1000)} s (state ${last || 'unknown'}); see the members' logs`);
    await sleep(500);
  }
}

/** The realm at the running node. */
export async function realmStatus(config: MilagroConfig, realmId: string, wait: boolean, timeoutMs: number, progress: (step: string) => void): Promise<RealmStatus> {
  const node = nodeOf(config);
  if (wait) return waitForRealm(node.url, realmId, timeoutMs, progress);
  const { status, body } = await http('GET', new URL(`/v1/realms/${encodeURIComponent(realmId)}`, node.url).toString());
  if (status === 404) throw new RealmError(`this node holds no realm "${realmId}"`);
  if (status !== 200) throw new RealmError(`GET /v1/realms/${realmId} answered HTTP ${status}`);
  return body as unknown as RealmStatus;
}

export interface RealmJoinResult {
  readonly config: string;
  readonly proposer: string;
  readonly trustedProposers: readonly string[];
  /** False when the proposer was trusted already. */
  readonly changed: boolean;
  /** The node runs with the old list: restart it. */
  readonly restartNeeded: boolean;
  /** This node's identity, for the proposer's `--member` (when the node runs). */
  readonly identity?: string;
}

/** Trusts `proposer` for realm proposals: adds it to `dta.trustedProposers` of the config file (atomically, comments kept). */
export async function realmJoin(configPath: string, config: MilagroConfig, proposerReference: string): Promise<RealmJoinResult> {
  requireDta(config);
  const proposer = await identityOf(proposerReference);
  const document = parseDocument(readFileSync(configPath, 'utf8'));
  if (!isMap(document.get('dta'))) document.set('dta', document.createNode({}));
  const list = document.getIn(['dta', 'trustedProposers']);
  const current = isSeq(list) ? list.items.map((item) => String((item as { value?: unknown }).value ?? item)) : [];
  const running = runningNode(config);
  const identity = running === undefined ? undefined : await identityOf(running.url).catch(() => undefined);
  if (current.includes(proposer)) return { config: configPath, proposer, trustedProposers: current, changed: false, restartNeeded: false, ...(identity === undefined ? {} : { identity }) };
  if (isSeq(list)) list.add(document.createNode(proposer));
  else document.setIn(['dta', 'trustedProposers'], document.createNode([proposer], { flow: true }));
  const pending = `${configPath}.join-${process.pid}`;
  writeFileSync(pending, document.toString({ lineWidth: 0 }), { mode: 0o600 });
  renameSync(pending, configPath);
  return { config: configPath, proposer, trustedProposers: [...current, proposer], changed: true, restartNeeded: running !== undefined, ...(identity === undefined ? {} : { identity }) };
}

/**
 * `milagro identity show|rotate`. Show asks the running node (`GET /v1/node`) or, when it is stopped,
 * opens its data dir offline and reports the verified newest document with the public keys.
 * Rotate needs the node stopped: a serving node signs with the identity it was started with, and
 * rotation deletes that generation's signing keys, so it refuses while the run file names a live
 * process (docs/adr/0016-milagro-cli.md). It publishes a @milagro/pki rotation document to the
 * pre-rotated keys in the node's IPFS store; peers learn the new head from the node's next message.
 */
import { bootstrapNode, reportIdentity, rotateNodeIdentity, type IdentityReport, type NodeInfrastructure } from '@milagro/node';
import { NODE_FILES, type MilagroConfig } from './config.js';
import { UsageError } from './exit-codes.js';
import { runningNode } from './status.js';

export type IdentityShowResult = (IdentityReport | Pick<IdentityReport, 'identity' | 'head' | 'rotations' | 'keys'>) & { readonly running: boolean };

export interface IdentityRotateResult extends IdentityReport {
  readonly previousHead: string;
}

/** The node's infrastructure without network peers (nothing to dial for a local step). */
function openOffline(config: MilagroConfig): Promise<NodeInfrastructure> {
  return bootstrapNode({ ...config, ipfs: { ...config.ipfs, peers: [] } }, NODE_FILES);
}

export async function identityShow(config: MilagroConfig): Promise<IdentityShowResult> {
  const running = runningNode(config);
  if (running !== undefined) {
    const response = await fetch(new URL('/v1/node', running.url), { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`the running node (pid ${running.pid}) answered GET /v1/node with HTTP ${response.status}`);
    const node = (await response.json()) as Pick<IdentityReport, 'identity' | 'head' | 'rotations' | 'keys'>;
    return { running: true, identity: node.identity, head: node.head, rotations: node.rotations, keys: node.keys };
  }
  const node = await openOffline(config);
  try {
    return { running: false, ...reportIdentity(node.identity, { publicKeys: true }) };
  } finally {
    await node.close();
  }
}

export async function identityRotate(config: MilagroConfig, progress: (step: string) => void): Promise<IdentityRotateResult> {
  const running = runningNode(config);
  if (running !== undefined) {
    throw new UsageError(`the node is running (pid ${running.pid}, ${running.url}): stop it first (a serving node keeps signing with the keys a rotation retires), rotate, then start it again`);
  }
  progress('opening the node (key store, IPFS store)');
  const node = await openOffline(config);
  try {
    const previousHead = node.identity.head.toString();
    progress(`rotating from generation ${node.identity.document.seq} to the pre-rotated keys`);
    const rotated = await rotateNodeIdentity(node);
    return { previousHead, ...reportIdentity(rotated) };
  } finally {
    await node.close();
  }
}

/**
 * Child-process entry (see tools/jest/peer-process.ts): one embedded node driven over stdin/stdout
 * JSON lines, so interop tests run Helia nodes in REAL separate processes.
 *
 * Config: env MILAGRO_PEER_CONFIG = JSON EmbeddedNodeOptions.
 * Events: ready {peerId, addrs, startMs} · message {topic, data, from}.
 * Ops: put · get · dial · subscribe · publish · peers · connected · stop.
 */
import { createEmbeddedNode } from '../../src/index.js';
import { emit, servePeer, type PeerCommand } from '../../../../tools/jest/peer-protocol.js';

type Command = PeerCommand & { data?: string; cid?: string; topic?: string; addr?: string; timeoutMs?: number };

const started = performance.now();
const node = await createEmbeddedNode(JSON.parse(process.env['MILAGRO_PEER_CONFIG'] ?? '{}'));
const startMs = performance.now() - started;

const onMessage = (message: { topic: string; data: Uint8Array; from?: string }): void => {
  emit({ event: 'message', topic: message.topic, data: Buffer.from(message.data).toString('base64'), from: message.from });
};

async function run(command: Command): Promise<unknown> {
  switch (command.op) {
    case 'put':
      return (await node.store.put(Buffer.from(command.data ?? '', 'base64'))).toString();
    case 'get':
      return Buffer.from(await node.store.get(command.cid ?? '', { timeoutMs: command.timeoutMs ?? 20_000 })).toString('base64');
    case 'dial':
      return node.dial(command.addr ?? '', { timeoutMs: command.timeoutMs ?? 10_000 });
    case 'subscribe':
      return node.pubsub.subscribe(command.topic ?? '', onMessage);
    case 'publish':
      return node.pubsub.publish(command.topic ?? '', Buffer.from(command.data ?? '', 'base64'));
    case 'peers':
      return node.pubsub.peers(command.topic ?? '');
    case 'connected':
      return node.connectedPeers();
    case 'stop':
      await node.stop();
      setImmediate(() => process.exit(0));
      return undefined;
    default:
      throw new Error(`unknown op ${command.op}`);
  }
}

servePeer({ peerId: node.peerId, addrs: await node.multiaddrs(), startMs }, (command) => run(command as Command), () => node.stop());

/**
 * Child-process entry: one embedded node driven over stdin/stdout JSON lines, so interop tests run
 * Helia nodes in REAL separate processes. Run by Node 24 directly (type stripping), importing the
 * package's TypeScript sources; the resolve hook below maps their ESM `./x.js` imports to `./x.ts`,
 * which Node's type stripping does not do by itself.
 *
 * Config: env MILAGRO_PEER_CONFIG = JSON EmbeddedNodeOptions.
 * Out: {"event":"ready",peerId,addrs,startMs} | {"event":"message",topic,data,from} | {id,ok,result|code,message}
 * In:  {id,op:"put"|"get"|"dial"|"subscribe"|"publish"|"peers"|"connected"|"stop",...}
 * The child exits when stdin closes, so it never outlives a crashed test runner.
 */
import { registerHooks } from 'node:module';
import { createInterface } from 'node:readline';
import type * as Ipfs from '../../src/index.js';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (specifier.startsWith('.') && specifier.endsWith('.js')) return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      throw error;
    }
  },
});

interface Command {
  id: number;
  op: string;
  data?: string;
  cid?: string;
  topic?: string;
  addr?: string;
  timeoutMs?: number;
}

const source = new URL('../../src/index.ts', import.meta.url).href;
const ipfs = (await import(source)) as typeof Ipfs;
const write = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};

const started = performance.now();
const node = await ipfs.createEmbeddedNode(JSON.parse(process.env['MILAGRO_PEER_CONFIG'] ?? '{}'));
write({ event: 'ready', peerId: node.peerId, addrs: await node.multiaddrs(), startMs: performance.now() - started });

const onMessage = (message: { topic: string; data: Uint8Array; from?: string }): void => {
  write({ event: 'message', topic: message.topic, data: Buffer.from(message.data).toString('base64'), from: message.from });
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

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const command = JSON.parse(line) as Command;
  run(command).then(
    (result) => write({ id: command.id, ok: true, result }),
    (error: unknown) => write({ id: command.id, ok: false, code: (error as { code?: string }).code, message: String(error) }),
  );
});
lines.on('close', () => {
  void node.stop().finally(() => process.exit(0));
});

import { HttpApi } from '@milagro/http';
import { z } from 'zod';
import type { NodeInfrastructure } from './bootstrap.js';
import { reportIdentity, type IdentityReport } from './identity-report.js';

/** What `GET /v1/node` says about a node: its identity (operators name it in realms), current head, rotations, key fingerprints, and IPFS addresses. */
export async function describeNode(
  node: NodeInfrastructure,
): Promise<{ identity: string; head: string; rotations: number; keys: IdentityReport['keys']; peerId: string; addresses: string[] }> {
  const { identity, head, rotations, keys } = reportIdentity(node.identity);
  return { identity, head, rotations, keys, peerId: node.ipfs.peerId, addresses: await node.ipfs.multiaddrs() };
}

/** `GET /v1/node` for a node without the D-TA role (the D-TA's API has its own, with the same answer). */
export function createNodeApi(node: NodeInfrastructure): HttpApi {
  const api = new HttpApi({ tags: ['node'] });
  api.route({
    method: 'GET',
    path: '/v1/node',
    operationId: 'getNode',
    summary: "This node's identity and network addresses",
    responses: { 200: { description: 'the node', schema: z.object({ identity: z.string(), head: z.string(), rotations: z.number().int(), keys: z.record(z.string(), z.object({ fingerprint: z.string() })), peerId: z.string(), addresses: z.array(z.string()) }) } },
    handler: async () => ({ status: 200, body: await describeNode(node) }),
  });
  return api;
}

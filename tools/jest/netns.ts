/**
 * A second host on this machine for fault tests: a Linux network namespace joined to the root
 * namespace by a veth pair on a private /30 (root side `.1`, namespace side `.2`). A process started
 * inside ({@link namespacedEntry}) can only reach the root namespace through that link, so taking the
 * link down is a real partition: both directions go silent, open TCP connections stay open with
 * nothing arriving (as behind a dead switch port), and bringing it up heals it.
 *
 * Needs root (CAP_NET_ADMIN) and iproute2; {@link networkNamespacesUnavailable} says why not, for
 * `describe.skip`. Names carry the prefix `mlgnt` and the creating process's pid: every run removes
 * what a crashed run left behind (its pid is gone), and concurrent runs never share a name.
 */
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** Prefix of every namespace and veth interface these helpers create. */
export const NETNS_PREFIX = 'mlgnt';
const IP = 'ip';

/** tools/jest/netns-exec.ts, the launcher {@link namespacedEntry} names. */
const NETNS_EXEC_ENTRY = fileURLToPath(new URL('./netns-exec.ts', import.meta.url));

function ip(...args: string[]): string {
  return execFileSync(IP, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Why network namespaces cannot be used here (not root, no iproute2, or `ip netns add` refused), or
 * undefined when they can. Tries for real: creates and removes a probe namespace.
 */
export function networkNamespacesUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces are Linux only (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (CAP_NET_ADMIN); this run is not root';
  const probe = `${NETNS_PREFIX}-probe-${process.pid}`;
  try {
    ip('netns', 'add', probe);
  } catch (error) {
    return `\`ip netns add\` failed: ${String((error as { stderr?: string }).stderr ?? error).trim()}`;
  }
  try {
    ip('netns', 'del', probe);
  } catch {
    // removed by removeStaleNamespaces in a later run
  }
  return undefined;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The tag (`<pid>` or `<pid>x<n>`) and pid in a name this module made (`mlgnt-<tag>`, `mlgnt-probe-<pid>`, `mlgnt<tag>h`). */
function parseName(name: string): { tag: string; pid: number } | undefined {
  const match = new RegExp(`^${NETNS_PREFIX}(?:-probe)?-?((\\d+)(?:x\\d+)?)[hn]?$`).exec(name);
  return match === null ? undefined : { tag: match[1]!, pid: Number(match[2]) };
}

/** Tags this process created: a name with this pid and another tag was left by a dead process that had the same pid. */
const created = new Set<string>();

function stale(name: string): boolean {
  const parsed = parseName(name);
  if (parsed === undefined) return false;
  if (parsed.pid === process.pid) return !created.has(parsed.tag) || name.includes('-probe-');
  return !pidAlive(parsed.pid);
}

/** Removes namespaces and veth interfaces of ours whose creating process is gone (a crashed run). */
export function removeStaleNamespaces(): void {
  const namespaces = ip('netns', 'list')
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(NETNS_PREFIX));
  for (const name of namespaces.filter(stale)) {
    try {
      ip('netns', 'del', name);
    } catch {
      // gone meanwhile
    }
  }
  const links = ip('-o', 'link', 'show')
    .split('\n')
    .map((line) => /^\d+: ([^:@]+)/.exec(line)?.[1] ?? '')
    .filter((name) => name.startsWith(NETNS_PREFIX));
  for (const name of links.filter(stale)) {
    try {
      ip('link', 'del', name); // deleting one end of a veth pair deletes both
    } catch {
      // gone meanwhile
    }
  }
}

/** A /30 in 10.213.0.0/16 that no interface of the root namespace uses yet (derived from the pid, then the next free one). */
function freeSubnet(): string {
  const used = ip('-o', '-4', 'addr', 'show');
  for (let i = 0; i < 16_384; i += 1) {
    const index = (process.pid + i) % 16_384;
    const base = `10.213.${index >> 6}.${(index & 63) * 4}`;
    const prefix = base.slice(0, base.lastIndexOf('.') + 1);
    const last = Number(base.slice(base.lastIndexOf('.') + 1));
    if (!used.includes(` ${prefix}${last + 1}/`) && !used.includes(` ${prefix}${last + 2}/`)) return base;
  }
  throw new Error('no free /30 in 10.213.0.0/16');
}

/** A namespace with its link to the root namespace. */
export interface NetworkNamespace {
  /** The namespace's name (`ip netns exec <name> …`). */
  readonly name: string;
  /** Address of the root namespace's end of the link: what a process in the namespace dials. */
  readonly hostAddress: string;
  /** Address inside the namespace: what processes inside listen on and the root namespace dials. */
  readonly address: string;
  /** Cuts the link both ways (the namespace's end goes down); idempotent. */
  partition(): void;
  /** Restores the link; idempotent. */
  heal(): void;
  /** Deletes the namespace and the veth pair (processes still inside lose their network); idempotent. */
  remove(): void;
}

let sequence = 0;

/** Creates a namespace with loopback up and a veth pair to the root namespace; removes stale ones first. */
export function createNetworkNamespace(): NetworkNamespace {
  removeStaleNamespaces();
  sequence += 1;
  const tag = `${process.pid}${sequence === 1 ? '' : `x${sequence}`}`;
  const name = `${NETNS_PREFIX}-${tag}`;
  const hostLink = `${NETNS_PREFIX}${tag}h`;
  const innerLink = `${NETNS_PREFIX}${tag}n`;
  if (hostLink.length > 15) throw new Error(`interface name ${hostLink} is longer than 15 characters`);
  const base = freeSubnet();
  const prefix = base.slice(0, base.lastIndexOf('.') + 1);
  const last = Number(base.slice(base.lastIndexOf('.') + 1));
  const hostAddress = `${prefix}${last + 1}`;
  const address = `${prefix}${last + 2}`;
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    for (const args of [['netns', 'del', name], ['link', 'del', hostLink]]) {
      try {
        ip(...args);
      } catch {
        // already gone (deleting the namespace deletes the pair)
      }
    }
  };
  created.add(tag);
  try {
    ip('netns', 'add', name);
    ip('link', 'add', hostLink, 'type', 'veth', 'peer', 'name', innerLink, 'netns', name);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', hostLink);
    ip('link', 'set', hostLink, 'up');
    ip('-n', name, 'addr', 'add', `${address}/30`, 'dev', innerLink);
    ip('-n', name, 'link', 'set', innerLink, 'up');
    ip('-n', name, 'link', 'set', 'lo', 'up');
  } catch (error) {
    remove();
    throw new Error(`cannot set up network namespace ${name}: ${String((error as { stderr?: string }).stderr ?? error).trim()}`, { cause: error });
  }
  // Never leave a namespace behind, even when a test forgets afterAll.
  process.once('exit', remove);
  return {
    name,
    hostAddress,
    address,
    // The namespace's end goes down: inside, the route to the root namespace disappears (sends fail);
    // the root end keeps its route but has no carrier, so what it sends is dropped without an answer.
    partition: () => void ip('-n', name, 'link', 'set', innerLink, 'down'),
    heal: () => void ip('-n', name, 'link', 'set', innerLink, 'up'),
    remove,
  };
}

/**
 * Established TCP connections (`local` and `peer` as `address:port`) in the root namespace, or in
 * `netns`: to see that a partition really closed the connections it cut, not merely paused them.
 */
export function establishedTcp(netns?: NetworkNamespace): Array<{ local: string; peer: string }> {
  const args = ['-H', '-t', '-n', 'state', 'established'];
  const text = netns === undefined ? execFileSync('ss', args, { encoding: 'utf8' }) : ip('netns', 'exec', netns.name, 'ss', ...args);
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 4)
    .map((fields) => ({ local: fields[fields.length - 2]!, peer: fields[fields.length - 1]! }));
}

/**
 * `entry` and `args` for spawnServer (server-process.ts) that run `target` (a TypeScript entry) inside `netns`
 * with the same Node and flags: the launcher replaces itself (execve, same pid) by
 * `ip netns exec <netns> node … target …targetArgs`, so signals and kills reach the target.
 */
export function namespacedEntry(netns: NetworkNamespace, target: string, targetArgs: readonly string[] = []): { entry: string; args: string[] } {
  return { entry: NETNS_EXEC_ENTRY, args: [netns.name, target, ...targetArgs] };
}

/** A one-line HTTP client for {@link jsonRequestInNamespace}: argv url, JSON body ('' for GET), timeout in ms. */
const NAMESPACED_FETCH = `const [url, body, timeoutMs] = process.argv.slice(1);
let answer;
try {
  const response = await fetch(url, { method: body === '' ? 'GET' : 'POST', headers: body === '' ? {} : { 'content-type': 'application/json' }, body: body === '' ? undefined : body, signal: AbortSignal.timeout(Number(timeoutMs)) });
  const text = await response.text();
  let parsed = {};
  try { parsed = JSON.parse(text); } catch {}
  answer = { status: response.status, body: parsed };
} catch (error) {
  answer = { status: 0, body: { error: String(error) } };
}
process.stdout.write(JSON.stringify(answer));`;

/**
 * An HTTP request (POST with `json`, else GET) made from inside `netns`, by a client on the namespace's
 * side of the link (`ip netns exec` runs this Node with a small fetch): reaches what listens in the
 * namespace even while it is partitioned. Status 0 when no answer came within `timeoutMs` (default 30 s).
 */
export async function jsonRequestInNamespace(netns: NetworkNamespace, url: string, options: { json?: unknown; timeoutMs?: number } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const { stdout } = await promisify(execFile)(
    IP,
    ['netns', 'exec', netns.name, process.execPath, '--input-type=module', '-e', NAMESPACED_FETCH, url, options.json === undefined ? '' : JSON.stringify(options.json), String(timeoutMs)],
    { encoding: 'utf8', timeout: timeoutMs + 60_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as { status: number; body: Record<string, unknown> };
}

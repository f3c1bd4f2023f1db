/**
 * The Node release the command needs (package.json `engines`): checked first, so that an older Node
 * prints what to install instead of failing later on a missing built-in module (`node:sqlite`).
 */
export const MINIMUM_NODE = '24.11.0';

/** Why `version` (e.g. `process.versions.node`) cannot run the command, or undefined when it can. */
export function nodeVersionProblem(version: string, minimum: string = MINIMUM_NODE): string | undefined {
  const have = numbers(version);
  const need = numbers(minimum);
  for (let i = 0; i < 3; i += 1) {
    if ((have[i] ?? 0) > (need[i] ?? 0)) return undefined;
    if ((have[i] ?? 0) < (need[i] ?? 0)) {
      return `it needs Node ${minimum} or later, and this is Node ${version}: install Node 24 (https://nodejs.org), or run the container image`;
    }
  }
  return undefined;
}

function numbers(version: string): number[] {
  return version
    .replace(/^v/, '')
    .split(/[.-]/)
    .slice(0, 3)
    .map((part) => (/^\d+$/.test(part) ? Number(part) : 0));
}

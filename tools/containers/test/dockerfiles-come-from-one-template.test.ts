/**
 * The four server Dockerfiles share every build stage: they are generated from
 * tools/containers/Dockerfile.in, and an edit made to one of them alone is caught here (CI).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(__dirname, '..', '..', '..');
const script = join(root, 'tools', 'containers', 'dockerfiles.mjs');

interface Image {
  readonly app: string;
  readonly cmd: readonly string[];
}
interface DockerfilesModule {
  readonly IMAGES: readonly Image[];
  renderDockerfile(template: string, image: Image): string;
}
const load = async (): Promise<DockerfilesModule> => (await import(script)) as DockerfilesModule;

it('every apps/*/Dockerfile is the template with its image values', async () => {
  const { IMAGES, renderDockerfile } = await load();
  const template = readFileSync(join(root, 'tools', 'containers', 'Dockerfile.in'), 'utf8');
  expect(IMAGES.map((image) => image.app).sort()).toEqual(['custody-server', 'dta-server', 'mfa-server', 'milagro']);
  for (const image of IMAGES) {
    const dockerfile = readFileSync(join(root, 'apps', image.app, 'Dockerfile'), 'utf8');
    expect({ app: image.app, dockerfile }).toEqual({ app: image.app, dockerfile: renderDockerfile(template, image) });
    expect(dockerfile).not.toMatch(/\{\{\w+\}\}/);
    expect(dockerfile).toContain(`CMD ${JSON.stringify(image.cmd).replaceAll(',', ', ')}`);
  }
  // The command line check agrees.
  await expect(promisify(execFile)(process.execPath, [script, '--check'])).resolves.toBeDefined();
});

it('a placeholder without a value is an error, not an empty string', async () => {
  const { IMAGES, renderDockerfile } = await load();
  expect(() => renderDockerfile('FROM x\nENV A={{noSuchKey}}\n', IMAGES[0]!)).toThrow(/no value for \{\{noSuchKey\}\} in dta-server/);
});

// The HEALTHCHECK of the server images (slim images have no curl): GET /healthz on the port the
// server runs with: MILAGRO_HTTP_PORT (the milagro image's override), else the port of a JSON
// configuration (MILAGRO_DTA_CONFIG, MILAGRO_MFA_CONFIG or MILAGRO_CUSTODY_CONFIG), else 8080, the images' default.
import { readFileSync } from 'node:fs';

const configFile = process.env.MILAGRO_DTA_CONFIG ?? process.env.MILAGRO_MFA_CONFIG ?? process.env.MILAGRO_CUSTODY_CONFIG;
let port = 8080;
try {
  port = JSON.parse(readFileSync(configFile, 'utf8')).http?.port ?? port;
} catch {
  // No readable JSON configuration (the milagro image's is YAML): the default port.
}
if (/^\d+$/.test(process.env.MILAGRO_HTTP_PORT ?? '')) port = Number(process.env.MILAGRO_HTTP_PORT);
const response = await globalThis.fetch(`http://127.0.0.1:${port}/healthz`, { signal: globalThis.AbortSignal.timeout(4000) }).catch(() => undefined);
process.exit(response?.ok === true ? 0 : 1);

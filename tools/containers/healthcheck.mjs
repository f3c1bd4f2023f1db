// The HEALTHCHECK of the server images (slim images have no curl): GET /healthz on the port of the
// configuration the server runs with (MILAGRO_DTA_CONFIG or MILAGRO_MFA_CONFIG), 8080 by default.
import { readFileSync } from 'node:fs';

const configFile = process.env.MILAGRO_DTA_CONFIG ?? process.env.MILAGRO_MFA_CONFIG;
let port = 8080;
try {
  port = JSON.parse(readFileSync(configFile, 'utf8')).http?.port ?? port;
} catch {
  // No readable configuration: the server's own default port.
}
const response = await globalThis.fetch(`http://127.0.0.1:${port}/healthz`, { signal: globalThis.AbortSignal.timeout(4000) }).catch(() => undefined);
process.exit(response?.ok === true ? 0 : 1);

/**
 * The demo page's script (bundled for the browser by page-bundle.ts). Every step is one call of the
 * client SDK; the credential lives in IndexedDB, so a reload resumes where the user was.
 */
import { IndexedDbCredentialStore, MfaClient, isMfaClientError, type ClientStatus } from '@milagro/mfa/client';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const SECTIONS = ['register', 'activate', 'set-pin', 'login'] as const;

function show(section: (typeof SECTIONS)[number] | undefined, status: string): void {
  for (const id of SECTIONS) $(id).hidden = id !== section;
  $('status').textContent = status;
}

function showError(error: unknown): void {
  const element = $('error');
  element.hidden = false;
  element.textContent = isMfaClientError(error)
    ? error.code === 'AUTHENTICATION_FAILED'
      ? 'Login failed.'
      : `${error.code}: ${error.message}`
    : `Something went wrong: ${String(error)}`;
}

/** Runs a step with the form disabled and errors shown; refreshes the view afterwards. */
function step(form: HTMLFormElement | HTMLButtonElement, action: () => Promise<void>): void {
  const handler = async (event: Event): Promise<void> => {
    event.preventDefault();
    $('error').hidden = true;
    const controls = form instanceof HTMLFormElement ? Array.from(form.elements) : [form];
    for (const control of controls) (control as HTMLInputElement).disabled = true;
    try {
      await action();
    } catch (error) {
      showError(error);
    } finally {
      for (const control of controls) (control as HTMLInputElement).disabled = false;
      await render();
    }
  };
  form.addEventListener(form instanceof HTMLFormElement ? 'submit' : 'click', (event) => void handler(event));
}

let config: { mfaUrl: string };
let client: MfaClient;

async function showOutbox(userId: string): Promise<void> {
  const list = $('outbox');
  list.replaceChildren();
  const response = await fetch(`${config.mfaUrl}/v1/development/outbox?to=${encodeURIComponent(userId)}`);
  if (!response.ok) {
    list.append(Object.assign(document.createElement('li'), { textContent: 'The MFA server has no development outbox (it sends real e-mail).' }));
    return;
  }
  const { messages } = (await response.json()) as { messages: Array<{ to: string; subject: string; text: string }> };
  for (const message of messages.filter((m) => m.to === userId).slice(-3)) {
    const item = document.createElement('li');
    const link = /https?:\/\/\S+#code=[A-Za-z0-9_-]+/.exec(message.text)?.[0];
    item.append(`${message.subject}: `);
    if (link !== undefined) item.append(Object.assign(document.createElement('a'), { href: link, textContent: 'activation link', className: 'activation-link' }));
    list.append(item);
  }
}

async function render(): Promise<void> {
  const status: ClientStatus = await client.status();
  switch (status.state) {
    case 'unregistered':
      show('register', 'This browser is not registered.');
      break;
    case 'pending':
      $('pending-user').textContent = status.userId;
      show('activate', `Registration ${status.reference} waits for activation.`);
      await showOutbox(status.userId);
      break;
    case 'awaiting-pin':
      $('pin-digits').textContent = String(status.pinDigits);
      show('set-pin', `Activated for ${status.userId}: choose a PIN.`);
      break;
    case 'active':
      $('login-user').textContent = status.userId;
      show('login', `This browser is registered for ${status.userId}.`);
      break;
  }
}

/** Wires the forms, handles an activation link, and renders the current step (IIFE bundles have no top-level await). */
async function main(): Promise<void> {
  config = (await (await fetch('/config.json')).json()) as { mfaUrl: string };
  client = new MfaClient({ baseUrl: config.mfaUrl, store: new IndexedDbCredentialStore() });
  step($<HTMLFormElement>('register-form'), async () => {
    await client.register({ userId: $<HTMLInputElement>('user-id').value, deviceName: $<HTMLInputElement>('device-name').value });
  });
  step($<HTMLFormElement>('activate-form'), async () => {
    await client.activate({ code: $<HTMLInputElement>('code').value.trim() });
  });
  step($<HTMLButtonElement>('refresh-outbox'), async () => undefined);
  step($<HTMLFormElement>('pin-form'), async () => {
    await client.setPin($<HTMLInputElement>('new-pin').value);
    $<HTMLInputElement>('new-pin').value = '';
  });
  step($<HTMLFormElement>('login-form'), async () => {
    const pin = $<HTMLInputElement>('pin');
    const { accessToken } = await client.login(pin.value);
    pin.value = '';
    // The relying party checks the token against the service's JWKS and opens a cookie session.
    const response = await fetch('/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ accessToken }) });
    if (!response.ok) throw new Error(`the relying party refused the token (${response.status})`);
    location.assign('/protected');
  });
  step($<HTMLButtonElement>('forget'), () => client.forget());

  // An activation link (#code=…) activates this browser's pending registration, whether it opens
  // the page or is followed from it (a fragment change); the code leaves the address bar at once.
  const activateFromLink = async (): Promise<void> => {
    const code = /^#code=([A-Za-z0-9_-]+)$/.exec(location.hash)?.[1];
    if (code === undefined) return;
    history.replaceState(null, '', location.pathname);
    show(undefined, 'Activating: fetching your key shares from the D-TAs…');
    try {
      await client.activate({ code });
    } catch (error) {
      showError(error);
    }
  };
  addEventListener('hashchange', () => void activateFromLink().then(render));
  await activateFromLink();
  await render();
  (globalThis as Record<string, unknown>)['milagroDemoReady'] = true;
}

void main();

/** The demo's two HTML pages. All dynamic text is escaped; scripts come only from /app.js (CSP). */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
  body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #1d2330; }
  h1 { font-size: 1.4rem; } section { border: 1px solid #d5d9e0; border-radius: 6px; padding: 1rem; margin: 1rem 0; }
  label { display: block; margin: .5rem 0; } input { font: inherit; padding: .3rem; } button { font: inherit; padding: .3rem .8rem; }
  .error { color: #a01616; } .muted { color: #667; font-size: .9rem; } [hidden] { display: none; }`;

export function indexPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Milagro ZKP MFA demo</title><style>${STYLE}</style></head>
<body>
<h1>Milagro ZKP MFA: demo relying party</h1>
<p class="muted">Your PIN never leaves this browser; the server stores no password, verifier or secret of yours.</p>
<p id="status" role="status">Loading…</p>
<p id="error" class="error" role="alert" hidden></p>

<section id="register" hidden>
  <h2>1. Register this browser</h2>
  <form id="register-form">
    <label>E-mail <input id="user-id" name="userId" type="email" required autocomplete="username"></label>
    <label>Device name <input id="device-name" name="deviceName" required maxlength="64" value="Demo browser"></label>
    <button id="register-button" type="submit">Register</button>
  </form>
</section>

<section id="activate" hidden>
  <h2>2. Activate</h2>
  <p>An activation link was sent to <b id="pending-user"></b>. In this demo the e-mail lands in the
  MFA server's development outbox:</p>
  <ul id="outbox"></ul>
  <button id="refresh-outbox" type="button">Check the outbox again</button>
  <form id="activate-form"><label>…or paste the code <input id="code" name="code" autocomplete="one-time-code"></label><button type="submit">Activate</button></form>
</section>

<section id="set-pin" hidden>
  <h2>3. Choose a PIN</h2>
  <form id="pin-form"><label>PIN (<span id="pin-digits"></span> digits) <input id="new-pin" type="password" inputmode="numeric" autocomplete="new-password" required></label><button id="set-pin-button" type="submit">Save PIN</button></form>
</section>

<section id="login" hidden>
  <h2>Log in as <span id="login-user"></span></h2>
  <form id="login-form"><label>PIN <input id="pin" type="password" inputmode="numeric" autocomplete="current-password" required></label><button id="login-button" type="submit">Log in</button></form>
  <p class="muted"><button id="forget" type="button">Forget this device</button></p>
</section>
<script src="/app.js"></script>
</body></html>`;
}

export function protectedPage(userIdHtml: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Protected — Milagro ZKP MFA demo</title><style>${STYLE}</style></head>
<body>
<h1>Protected page</h1>
<p id="welcome">Signed in as <b id="signed-in-user">${userIdHtml}</b>, with a PIN and this device, by a zero-knowledge proof.</p>
<form method="post" action="/logout"><button id="logout" type="submit">Log out</button></form>
</body></html>`;
}

/**
 * The IdP's server-rendered pages: login, consent, logout confirmation,
 * signed-out, errors. Plain HTML strings, no JavaScript at all, one external
 * stylesheet (the Content-Security-Policy forbids inline scripts and styles).
 * Every value that comes from a request or from data is escaped with `escapeHtml`.
 */

export const STYLESHEET_PATH = "/interaction/assets/idp.css";
export const SITE_NAME = "Contacts sign-in";

/** The one message for any failed login, so that it does not reveal which usernames exist. */
export const INVALID_CREDENTIALS_MESSAGE = "Invalid username or password.";

/** Plain-language descriptions shown on the consent page. */
export const SCOPE_DESCRIPTIONS: Record<string, string> = {
  openid: "Confirm who you are (a stable identifier for your account)",
  profile: "See your name",
  email: "See your email address and whether it is verified",
  offline_access: "Stay connected while you are away, until you sign out",
  "contacts:read": "Read your contacts",
  "contacts:write": "Add, change and delete your contacts",
  "contacts:stats": "See how many contacts there are (no names or addresses)",
};

export function escapeHtml(value: unknown): string {
  return String(value)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function layout(title: string, main: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ${SITE_NAME}</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<header class="site"><p>${SITE_NAME}</p></header>
<main class="card">
${main}
</main>
</body>
</html>
`;
}

export interface LoginPageModel {
  uid: string;
  clientName: string;
  /** Shown again after a failed attempt (never the password). */
  username?: string;
  error?: string;
}

export function loginPage({ uid, clientName, username = "", error }: LoginPageModel): string {
  const invalid = error ? ' aria-invalid="true" aria-describedby="form-error"' : "";
  const base = `/interaction/${encodeURIComponent(uid)}`;
  return layout(
    "Sign in",
    `<h1>Sign in</h1>
<p class="lead">to continue to <strong>${escapeHtml(clientName)}</strong></p>
<div id="form-error" class="alert" role="alert">${error ? `<p>${escapeHtml(error)}</p>` : ""}</div>
<form method="post" action="${base}/login">
  <div class="field">
    <label for="username">Username</label>
    <input id="username" name="username" type="text" value="${escapeHtml(username)}" autocomplete="username" autocapitalize="none" spellcheck="false" required${username ? "" : " autofocus"}${invalid}>
  </div>
  <div class="field">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required${username ? " autofocus" : ""}${invalid}>
  </div>
  <button type="submit" class="primary">Sign in</button>
</form>
<form method="post" action="${base}/abort" class="aside">
  <button type="submit" class="link">Cancel and return to ${escapeHtml(clientName)}</button>
</form>`,
  );
}

export interface ConsentPageModel {
  uid: string;
  clientName: string;
  /** Display name of the signed-in person. */
  userName: string;
  /** Scopes this request asks for that the person has not allowed yet. */
  requestedScopes: string[];
  /** Scopes allowed on an earlier visit, listed for context. */
  alreadyAllowedScopes: string[];
}

function scopeItem(scope: string): string {
  const description = SCOPE_DESCRIPTIONS[scope] ?? scope;
  return `<li><span>${escapeHtml(description)}</span> <code>${escapeHtml(scope)}</code></li>`;
}

export function consentPage(model: ConsentPageModel): string {
  const base = `/interaction/${encodeURIComponent(model.uid)}`;
  const already =
    model.alreadyAllowedScopes.length > 0
      ? `<p class="muted">Already allowed: ${model.alreadyAllowedScopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(" ")}</p>`
      : "";
  return layout(
    "Allow access?",
    `<h1>Allow access?</h1>
<p class="lead"><strong>${escapeHtml(model.clientName)}</strong> would like to:</p>
<ul class="scopes">
${model.requestedScopes.map(scopeItem).join("\n")}
</ul>
${already}
<p class="muted">Signed in as ${escapeHtml(model.userName)}.</p>
<div class="actions">
  <form method="post" action="${base}/confirm"><button type="submit" class="primary">Allow</button></form>
  <form method="post" action="${base}/abort"><button type="submit" class="secondary">Deny</button></form>
</div>`,
  );
}

export interface LogoutPageModel {
  /** oidc-provider's own form (id "op.logoutForm", hidden `xsrf` field): embedded untouched. */
  providerForm: string;
  userName?: string;
  clientName?: string;
}

/**
 * RP-initiated logout confirmation. The button submits oidc-provider's form
 * (through the `form` attribute) with `logout=yes`: the whole IdP session ends,
 * not just the one application's.
 */
export function logoutPage({ providerForm, userName, clientName }: LogoutPageModel): string {
  const who = userName ? ` as <strong>${escapeHtml(userName)}</strong>` : "";
  const from = clientName ? `<p>${escapeHtml(clientName)} asked to sign you out.</p>` : "";
  return layout(
    "Sign out",
    `<h1>Sign out?</h1>
<p class="lead">You are signed in to ${SITE_NAME}${who}.</p>
${from}
${providerForm}
<button type="submit" form="op.logoutForm" name="logout" value="yes" class="primary">Sign out</button>`,
  );
}

export function signedOutPage({ clientName }: { clientName?: string }): string {
  const from = clientName ? ` from ${escapeHtml(clientName)}` : "";
  return layout(
    "Signed out",
    `<h1>You are signed out</h1>
<p class="lead">You have signed out${from}. You can close this page.</p>`,
  );
}

export interface ErrorPageModel {
  title: string;
  message: string;
  /** A machine-readable code (an OAuth error code), shown small for support. */
  code?: string;
}

export function errorPage({ title, message, code }: ErrorPageModel): string {
  return layout(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p class="lead">${escapeHtml(message)}</p>
${code ? `<p class="muted">Error code: <code>${escapeHtml(code)}</code></p>` : ""}`,
  );
}

// Device authorization grant (RFC 8628 §3.3): the pages a person opens on a
// phone or laptop to let a device without a browser (the command line) in.

export interface DeviceCodeEntryPageModel {
  /** oidc-provider's code verification endpoint (`verification_uri`), where the form posts. */
  action: string;
  /** oidc-provider's anti-CSRF value for this form, bound to its session cookie. */
  xsrf: string;
  /** Put back into the field: the code from `verification_uri_complete`, or the one that failed. */
  userCode?: string;
  error?: string;
}

/** Step 1: "Enter the code shown on your device". */
export function deviceCodeEntryPage({
  action,
  xsrf,
  userCode = "",
  error,
}: DeviceCodeEntryPageModel): string {
  const invalid = error ? ' aria-invalid="true"' : "";
  return layout(
    "Connect a device",
    `<h1>Connect a device</h1>
<p class="lead">Enter the code that your device (for example your terminal) shows.</p>
<div id="form-error" class="alert" role="alert">${error ? `<p>${escapeHtml(error)}</p>` : ""}</div>
<form method="post" action="${escapeHtml(action)}">
  <input type="hidden" name="xsrf" value="${escapeHtml(xsrf)}">
  <div class="field">
    <label for="user_code">Code</label>
    <input id="user_code" name="user_code" type="text" value="${escapeHtml(userCode)}" maxlength="32" autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus aria-describedby="user_code-hint${error ? " form-error" : ""}"${invalid}>
    <p id="user_code-hint" class="muted">Like BCDF-GHJK. Dashes, spaces and upper or lower case do not matter.</p>
  </div>
  <button type="submit" class="primary">Continue</button>
</form>`,
  );
}

export interface DeviceConfirmPageModel {
  /** oidc-provider's confirmation form (id "op.deviceConfirmForm": xsrf, user_code, confirm): embedded untouched. */
  providerForm: string;
  clientName: string;
  /** The user code, formatted as the device shows it. */
  userCode: string;
  /** What the device asks for (the consent page may still ask about them one by one). */
  requestedScopes: string[];
  /** Display name of the signed-in person; without one the sign-in page comes next. */
  userName?: string;
  /** The network address the device asked from (RFC 8628 §5.4: helps spot a code someone else started). */
  requestedFrom?: string;
}

/**
 * Step 2: the person checks that the code is the one on their own device.
 * Continue submits oidc-provider's form; Deny submits it with `abort=yes`
 * (oidc-provider reads `abort` first), and the device is told access_denied.
 */
export function deviceConfirmPage(model: DeviceConfirmPageModel): string {
  const who = model.userName
    ? `<p class="muted">Signed in as ${escapeHtml(model.userName)}.</p>`
    : `<p class="muted">You will sign in next.</p>`;
  const from = model.requestedFrom
    ? `<p class="muted">Requested from the network address <code>${escapeHtml(model.requestedFrom)}</code>.</p>`
    : "";
  return layout(
    "Connect this device?",
    `<h1>Connect this device?</h1>
<p class="lead"><strong>${escapeHtml(model.clientName)}</strong> wants to sign in as you. Your device should show this code:</p>
<p class="lead"><code>${escapeHtml(model.userCode)}</code></p>
${from}
<p>It asks to:</p>
<ul class="scopes">
${model.requestedScopes.map(scopeItem).join("\n")}
</ul>
<div class="alert" role="note"><p>Continue only if you started this sign-in yourself and the codes match. If someone sent you this code or link, choose Deny.</p></div>
${who}
${model.providerForm}
<div class="actions">
  <button type="submit" form="op.deviceConfirmForm" class="primary">Continue</button>
  <button type="submit" form="op.deviceConfirmForm" name="abort" value="yes" class="secondary">Deny</button>
</div>`,
  );
}

/** Step 3: the device picks up its tokens by itself on its next poll. */
export function deviceConnectedPage({ clientName }: { clientName: string }): string {
  return layout(
    "Device connected",
    `<h1>Device connected</h1>
<p class="lead">You allowed <strong>${escapeHtml(clientName)}</strong>. Go back to your device: it finishes signing in by itself.</p>
<p class="muted">You can close this page.</p>`,
  );
}

/** Step 3, declined: Deny on the confirmation page, or Cancel / Deny during sign-in. */
export function deviceDeniedPage(): string {
  return layout(
    "Device not connected",
    `<h1>Device not connected</h1>
<p class="lead">You denied access. The device gets nothing and will tell you so.</p>
<p class="muted">You can close this page.</p>`,
  );
}

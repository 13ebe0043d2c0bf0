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

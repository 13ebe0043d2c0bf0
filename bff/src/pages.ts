/**
 * The pages a person sees when a browser navigation to the BFF fails (a login
 * that could not complete, say). The SPA is not running on these URLs, so the
 * BFF answers readable HTML itself: what happened, and a way on.
 */
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** No script and no external style: the page works under the strictest CSP. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function errorPage(options: {
  title: string;
  message: string;
  action?: { href: string; label: string };
}): string {
  const action = options.action
    ? `<p><a href="${escapeHtml(options.action.href)}">${escapeHtml(options.action.label)}</a></p>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}a{color:#0b57d0}</style>
</head>
<body>
<main>
<h1>${escapeHtml(options.title)}</h1>
<p>${escapeHtml(options.message)}</p>
${action}
<p><a href="/">Back to the home page</a></p>
</main>
</body>
</html>
`;
}

/**
 * Test support: a browser's cookie store, with the rules of RFC 6265bis
 * (draft-ietf-httpbis-rfc6265bis-20) as Chromium applies them. Every test
 * suite's simulated browser keeps its cookies here, so that what a test sees
 * sent is what Chromium would send: a test that passes only because a cookie
 * went where no browser takes it cannot pass.
 *
 * Section numbers below are the draft's. Where Chromium decides something the
 * draft leaves open, the comment says so; the e2e test
 * `e2e/tests/cookie-fidelity.spec.ts` compares this store with real Chromium.
 *
 * Not modelled: third-party-cookie blocking, partitioned cookies (CHIPS), the
 * public suffix list (a site is the host's last two labels, or the host itself
 * for `localhost`, single labels and IP addresses), size limits, non-HTTP
 * (`document.cookie`) access.
 */

export type SameSite = "Strict" | "Lax" | "None" | "Unspecified";

export interface StoredCookie {
  name: string;
  value: string;
  /** The host (host-only cookie) or the Domain attribute's value (domain cookie), never a port. */
  domain: string;
  hostOnly: boolean;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite: SameSite;
  /** Epoch milliseconds; undefined for a session cookie (kept until the browser closes). */
  expires: number | undefined;
  /** Epoch milliseconds: orders the Cookie header and dates the Lax-allowing-unsafe exception. */
  created: number;
  /** The Set-Cookie line it came from, for tests that check attributes. */
  line: string;
}

/** What kind of request carries the cookies: the only facts §5.2 and §5.8.3 need. */
export interface CookieRequest {
  url: string | URL;
  method?: string;
  /** A top-level navigation (address bar, link, form, redirect) or a fetch/XHR from a page. */
  kind: "navigation" | "subresource";
  /**
   * The origin of the document that started the request; `null` for a navigation the
   * browser itself started (address bar, bookmark, Playwright's `page.goto`).
   */
  initiator: string | null;
  /** For a subresource: the top-level page's URL (its site is the "site for cookies"). Default: the initiator. */
  topLevel?: string;
  /** For a redirected navigation: every URL requested before this one, in order. */
  redirectChain?: readonly string[];
}

export type StoreResult = { stored: true; cookie: StoredCookie } | { stored: false; reason: string };

export interface CookieStoreOptions {
  now?: () => number;
  /**
   * §5.2.1: a redirected navigation is cross-site if any URL of its chain is cross-site
   * with its target. Chromium's default is what e2e/tests/cookie-fidelity.spec.ts measures.
   */
  redirectChainCountsForSameSite?: boolean;
}

/**
 * Chromium (150) does not apply §5.2.1's redirect-chain rule: BFF → IdP → BFF, started in the
 * address bar, still carries Strict cookies back (measured by the e2e comparison).
 */
export const CHROMIUM_REDIRECT_CHAIN_COUNTS = false;

/** Chromium's Lax-allowing-unsafe window (§5.6.7.2): 2 minutes. */
export const LAX_ALLOWING_UNSAFE_MS = 2 * 60 * 1000;

/** §5.5 (cookie lifetime limits): an expiry more than 400 days ahead is cut to 400 days. */
export const MAX_COOKIE_LIFETIME_MS = 400 * 24 * 60 * 60 * 1000;

/** §5.8.3, §5.2.1: the methods that may carry Lax cookies across sites (a "safe method", RFC 9110 §9.2.1). */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/**
 * Whether the URL is a "secure" one for cookies. Chromium counts `http://localhost`
 * (and `*.localhost`), `127.0.0.0/8` and `[::1]` as potentially trustworthy origins
 * (Secure Contexts §3.1), so it accepts and sends `Secure` cookies there too; any
 * other `http:` URL is not secure.
 */
export function isSecureUrl(url: URL): boolean {
  if (url.protocol === "https:" || url.protocol === "wss:") return true;
  const host = url.hostname;
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    /^127(\.\d{1,3}){3}$/.test(host) ||
    host === "[::1]"
  );
}

const isIpAddress = (host: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith("[");

/**
 * The "site" of a URL (§5.2, HTML's "site"): scheme and registrable domain ("schemeful
 * same-site", which Chromium applies: http and https of one host are different sites).
 * No public suffix list here: the registrable domain is the last two labels, or the
 * whole host for an IP address or a single label such as `localhost`. Ports never
 * count: `localhost:3000` and `localhost:4001` are one site, `localhost:3000` and
 * `127.0.0.1:4000` two.
 */
export function siteOf(url: string | URL): string {
  const { protocol, hostname } = new URL(url);
  const scheme = protocol === "wss:" ? "https:" : protocol === "ws:" ? "http:" : protocol;
  if (isIpAddress(hostname) || !hostname.includes(".")) return `${scheme}//${hostname}`;
  return `${scheme}//${hostname.split(".").slice(-2).join(".")}`;
}

/**
 * §5.2: is the request same-site? A navigation's site for cookies is its own target,
 * so it is same-site when the browser started it or the initiating page is of the same
 * site (with `redirectChainCounts`, also every URL it was redirected through). A
 * subresource is same-site when its page (the top level) and its initiator are.
 */
export function isSameSiteRequest(request: CookieRequest, redirectChainCounts: boolean): boolean {
  const site = siteOf(request.url);
  const sameAsTarget = (url: string) => siteOf(url) === site;
  if (request.kind === "navigation") {
    if (request.initiator !== null && !sameAsTarget(request.initiator)) return false;
    return !redirectChainCounts || (request.redirectChain ?? []).every(sameAsTarget);
  }
  const topLevel = request.topLevel ?? request.initiator;
  if (topLevel === null || !sameAsTarget(topLevel)) return false;
  return request.initiator === null || sameAsTarget(request.initiator);
}

/**
 * §5.1.4: the default path of a cookie is the request path up to, not including,
 * its last "/"; "/" when that leaves nothing (or the path has a single "/").
 */
export function defaultPath(url: URL): string {
  const path = url.pathname;
  if (!path.startsWith("/")) return "/";
  const last = path.lastIndexOf("/");
  return last <= 0 ? "/" : path.slice(0, last);
}

/** §5.1.4: a cookie path matches a request path equal to it, or below it at a "/" boundary. */
export function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || requestPath[cookiePath.length] === "/";
}

/** §5.1.3: a host matches a domain equal to it, or (not for IP addresses) a parent domain at a "." boundary. */
export function domainMatches(host: string, domain: string): boolean {
  if (host === domain) return true;
  return !isIpAddress(host) && host.endsWith(`.${domain}`);
}

interface ParsedLine {
  name: string;
  value: string;
  attributes: Array<[string, string]>;
}

/** §5.6: name=value, then attributes split at ";"; a line without "=" is a nameless value (Chromium). */
function parseLine(line: string): ParsedLine | undefined {
  const [pair = "", ...rest] = line.split(";");
  const eq = pair.indexOf("=");
  const name = (eq < 0 ? "" : pair.slice(0, eq)).trim();
  const value = (eq < 0 ? pair : pair.slice(eq + 1)).trim();
  if (name === "" && value === "") return undefined;
  const attributes = rest.map((part): [string, string] => {
    const at = part.indexOf("=");
    return at < 0
      ? [part.trim().toLowerCase(), ""]
      : [part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim()];
  });
  return { name, value, attributes };
}

export class CookieStore {
  private cookies: StoredCookie[] = [];
  /** Counts every change to the stored cookies, for callers that cache a header (load tests). */
  version = 0;
  private readonly now: () => number;
  readonly redirectChainCounts: boolean;

  constructor(options: CookieStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.redirectChainCounts = options.redirectChainCountsForSameSite ?? CHROMIUM_REDIRECT_CHAIN_COUNTS;
  }

  /** Stores every Set-Cookie line of a response to `request`; returns what happened to each. */
  storeResponse(request: CookieRequest, lines: readonly string[]): StoreResult[] {
    return lines.map((line) => this.store(request, line));
  }

  /** §5.7: the storage model, one Set-Cookie line received in answer to `request`. */
  store(request: CookieRequest, line: string): StoreResult {
    const url = new URL(request.url);
    const host = url.hostname;
    const secureUrl = isSecureUrl(url);
    const parsed = parseLine(line);
    if (!parsed) return { stored: false, reason: "empty Set-Cookie line" };
    const { name, value, attributes } = parsed;
    const now = this.now();

    // §5.6.1, §5.6.2, §5.7: Max-Age wins over Expires whatever their order; the last of each counts.
    let maxAge: number | undefined;
    let expiresAt: number | undefined;
    let domainAttribute: string | undefined;
    let pathAttribute: string | undefined;
    let secure = false;
    let httpOnly = false;
    let sameSiteValue: SameSite = "Unspecified";
    for (const [key, raw] of attributes) {
      if (key === "max-age" && /^-?\d+$/.test(raw)) maxAge = Number(raw);
      else if (key === "expires") {
        // §5.1.1's cookie-date algorithm, approximated by Date.parse (the BFF and the IdP send IMF-fixdate).
        const at = Date.parse(raw);
        if (!Number.isNaN(at)) expiresAt = at;
      }
      // §5.6.3: a leading "." is ignored; an empty Domain is as if absent.
      else if (key === "domain") domainAttribute = raw.replace(/^\./, "").toLowerCase() || undefined;
      // §5.6.4: a Path that does not start with "/" is ignored (the default path is used).
      else if (key === "path") pathAttribute = raw.startsWith("/") ? raw : undefined;
      else if (key === "secure") secure = true;
      else if (key === "httponly") httpOnly = true;
      // §5.6.7: Strict, Lax or None, case-insensitively; anything else leaves it unspecified.
      else if (key === "samesite") {
        const known = { strict: "Strict", lax: "Lax", none: "None" } as const;
        sameSiteValue = known[raw.toLowerCase() as keyof typeof known] ?? "Unspecified";
      }
    }

    let expires: number | undefined;
    // §5.6.2: Max-Age <= 0 means "already expired"; §5.5: no later than 400 days from now.
    if (maxAge !== undefined) expires = maxAge <= 0 ? 0 : now + maxAge * 1000;
    else if (expiresAt !== undefined) expires = expiresAt;
    if (expires !== undefined) expires = Math.min(expires, now + MAX_COOKIE_LIFETIME_MS);

    // §5.7: a Domain attribute makes a domain cookie, if the host is inside it;
    // an IP address only matches itself.
    let domain = host;
    let hostOnly = true;
    if (domainAttribute !== undefined) {
      if (!domainMatches(host, domainAttribute)) {
        return { stored: false, reason: `Domain=${domainAttribute} does not cover the host ${host}` };
      }
      domain = domainAttribute;
      hostOnly = false;
    }

    // §5.7 (and Chromium): only a secure URL may set a Secure cookie; localhost counts as secure.
    if (secure && !secureUrl) return { stored: false, reason: `Secure cookie ${name} from a non-secure URL` };

    // §5.7, "SameSite" on storage: a Lax, Strict or unspecified (Lax by default) cookie
    // is refused from a cross-site request, unless it is a top-level navigation.
    if (
      sameSiteValue !== "None" &&
      !isSameSiteRequest(request, this.redirectChainCounts) &&
      request.kind !== "navigation"
    ) {
      return {
        stored: false,
        reason: `SameSite=${sameSiteValue} cookie ${name} from a cross-site subresource`,
      };
    }
    // §5.7 (and Chromium's rule for SameSite=None): None needs Secure.
    if (sameSiteValue === "None" && !secure) {
      return { stored: false, reason: `SameSite=None cookie ${name} without Secure` };
    }

    // §4.1.3.1, §5.7: `__Secure-` needs Secure (so a secure URL). Chromium matches prefixes case-insensitively.
    const lowerName = name.toLowerCase();
    if (lowerName.startsWith("__secure-") && !secure) {
      return { stored: false, reason: `${name}: a __Secure- cookie must be Secure` };
    }
    // §4.1.3.2, §5.7: `__Host-` needs Secure, Path=/ and no Domain: it stays on this host.
    if (
      lowerName.startsWith("__host-") &&
      (!secure || domainAttribute !== undefined || pathAttribute !== "/")
    ) {
      return { stored: false, reason: `${name}: a __Host- cookie must be Secure, Path=/, without Domain` };
    }

    const path = pathAttribute ?? defaultPath(url);

    // §5.7 ("leave secure cookies alone"): a non-secure URL may not overwrite or
    // shadow a Secure cookie of the same name whose domain and path overlap.
    if (!secureUrl) {
      const shadowed = this.cookies.some(
        (c) =>
          c.secure &&
          c.name === name &&
          (domainMatches(domain, c.domain) || domainMatches(c.domain, domain)) &&
          pathMatches(path, c.path),
      );
      if (shadowed)
        return { stored: false, reason: `${name} would overwrite a Secure cookie from a non-secure URL` };
    }

    // §5.7: the same name, domain, host-only-ness and path replace the old cookie,
    // keeping its creation time; an expired one only deletes it.
    const index = this.cookies.findIndex(
      (c) => c.name === name && c.domain === domain && c.hostOnly === hostOnly && c.path === path,
    );
    const created = index >= 0 ? (this.cookies[index]?.created ?? now) : now;
    if (index >= 0) this.cookies.splice(index, 1);
    this.version++;
    const cookie: StoredCookie = {
      name,
      value,
      domain,
      hostOnly,
      path,
      secure,
      httpOnly,
      sameSite: sameSiteValue,
      expires,
      created,
      line,
    };
    if (expires !== undefined && expires <= now)
      return { stored: false, reason: `${name} expired (deleted)` };
    this.cookies.push(cookie);
    return { stored: true, cookie };
  }

  /**
   * §5.8.3: the cookies a request carries, in Cookie-header order. HttpOnly plays no part
   * here: it only hides a cookie from script.
   */
  cookiesFor(request: CookieRequest): StoredCookie[] {
    this.removeExpired();
    const url = new URL(request.url);
    const host = url.hostname;
    const secureUrl = isSecureUrl(url);
    const method = (request.method ?? "GET").toUpperCase();
    const sameSiteRequest = isSameSiteRequest(request, this.redirectChainCounts);
    const now = this.now();
    return (
      this.cookies
        // §5.8.3: host-only cookies go to their host only, domain cookies to it and its subdomains.
        .filter((c) => (c.hostOnly ? c.domain === host : domainMatches(host, c.domain)))
        .filter((c) => pathMatches(url.pathname || "/", c.path))
        // §5.8.3: a Secure cookie only over a secure URL (localhost counts, see isSecureUrl).
        .filter((c) => !c.secure || secureUrl)
        .filter((c) => sameSiteRequest || this.crossSiteAllows(c, request, method, now))
        // §5.8.3: longer paths first; equal paths in order of creation.
        .sort((a, b) => b.path.length - a.path.length || a.created - b.created)
    );
  }

  /**
   * §5.8.3, SameSite on a cross-site request: Strict never; Lax (and unspecified,
   * which Chromium treats as Lax, §5.6.7) only on a top-level navigation with a safe
   * method; None always. Chromium's Lax-allowing-unsafe (§5.6.7.2): a cookie that
   * *omitted* SameSite also goes with an unsafe top-level navigation (a cross-site form
   * POST) in its first two minutes. Every cookie of this system names its SameSite, so
   * the exception only shows in the store's own tests.
   */
  private crossSiteAllows(
    cookie: StoredCookie,
    request: CookieRequest,
    method: string,
    now: number,
  ): boolean {
    if (cookie.sameSite === "None") return true;
    if (cookie.sameSite === "Strict" || request.kind !== "navigation") return false;
    if (SAFE_METHODS.has(method)) return true;
    return cookie.sameSite === "Unspecified" && now - cookie.created < LAX_ALLOWING_UNSAFE_MS;
  }

  /** The Cookie header value for the request (§5.8.1: "; " between cookies), "" when there is none. */
  header(request: CookieRequest): string {
    return this.cookiesFor(request)
      .map((c) => (c.name === "" ? c.value : `${c.name}=${c.value}`))
      .join("; ");
  }

  /** The cookie of that name a host holds (host-only or domain; any port: ports do not isolate cookies). */
  get(host: string, name: string): StoredCookie | undefined {
    this.removeExpired();
    const hostname = new URL(`http://${host}`).hostname;
    return this.cookies.find(
      (c) => c.name === name && (c.hostOnly ? c.domain === hostname : domainMatches(hostname, c.domain)),
    );
  }

  /** Every live cookie, optionally only those of one host. */
  all(host?: string): StoredCookie[] {
    this.removeExpired();
    if (host === undefined) return [...this.cookies];
    const hostname = new URL(`http://${host}`).hostname;
    return this.cookies.filter((c) => c.domain === hostname);
  }

  /**
   * Puts a cookie straight into the store, bypassing the rules: what a person replaying
   * or tampering with a cookie does in the browser's devtools. Attributes as the BFF
   * sets its own cookies unless given.
   */
  put(
    host: string,
    name: string,
    value: string,
    attributes: Partial<Omit<StoredCookie, "name" | "value">> = {},
  ) {
    const hostname = new URL(`http://${host}`).hostname;
    const existing = this.cookies.find((c) => c.name === name && c.domain === hostname && c.path === "/");
    this.delete(host, name);
    this.version++;
    this.cookies.push({
      domain: hostname,
      hostOnly: true,
      path: "/",
      secure: true,
      httpOnly: true,
      sameSite: "Strict",
      expires: undefined,
      created: existing?.created ?? this.now(),
      line: `${name}=${value}`,
      ...attributes,
      name,
      value,
    });
  }

  /** Removes the cookies of that name on the host (as a person clearing one in devtools). */
  delete(host: string, name: string): void {
    const hostname = new URL(`http://${host}`).hostname;
    this.cookies = this.cookies.filter((c) => !(c.name === name && c.domain === hostname));
    this.version++;
  }

  clear(): void {
    this.cookies = [];
    this.version++;
  }

  /** Copies every cookie of another store into this one (a second tab restoring a saved profile). */
  copyFrom(other: CookieStore): void {
    for (const cookie of other.all()) {
      this.cookies = this.cookies.filter(
        (c) => !(c.name === cookie.name && c.domain === cookie.domain && c.path === cookie.path),
      );
      this.cookies.push({ ...cookie });
    }
    this.version++;
  }

  /** §5.7 (expiry): a cookie past its expiry is gone. */
  private removeExpired(): void {
    const now = this.now();
    const live = (c: StoredCookie) => c.expires === undefined || c.expires > now;
    if (this.cookies.every(live)) return;
    this.cookies = this.cookies.filter(live);
    this.version++;
  }
}

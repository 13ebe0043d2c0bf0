/**
 * Security checklist, section G (the command line): polling when the IdP cannot
 * be reached (G2), the reporting service's secret (G6) and verification pages on
 * another origin (G8), against the real IdP and API in this process.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { DEV_REPORTING_SERVICE_SECRET } from "@oidc-bff/idp";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { type CliIo, runCli } from "../src/index.ts";
import {
  API,
  configDir,
  ISSUER,
  Person,
  promptIn,
  recordingIo,
  startSystem,
  type TestSystem,
} from "./system.ts";

let system: TestSystem;
let config: ReturnType<typeof configDir>;
beforeAll(async () => {
  system = await startSystem();
});
afterAll(async () => {
  await system.close();
});
beforeEach(() => {
  config = configDir();
});
afterEach(() => config.remove());

const tokenFile = () => join(config.dir, "tokens.json");

/** Is this a device-code poll of the token endpoint? */
async function isDevicePoll(request: Request): Promise<boolean> {
  if (request.method !== "POST" || new URL(request.url).pathname !== "/token") return false;
  return (await request.clone().text()).includes(
    "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code",
  );
}

/** The system's fetch, except that the first `count` device polls fail as `failure` says. */
function failingPolls(count: number, failure: () => Response | Error) {
  let failed = 0;
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    if (failed < count && (await isDevicePoll(request))) {
      failed++;
      const outcome = failure();
      if (outcome instanceof Error) throw outcome;
      return outcome;
    }
    return system.fetch(request);
  };
  return { fetch, failures: () => failed };
}

describe("contacts login when the IdP cannot be reached while polling (G2)", () => {
  it("doubles the interval after each network error and goes on polling until alice approves (G2)", async () => {
    const person = new Person(system.fetch);
    const polls = failingPolls(2, () => new TypeError("fetch failed"));
    const { io, out, err, sleeps } = recordingIo(
      { CONTACTS_CONFIG_DIR: config.dir },
      polls.fetch,
      async (count) => {
        if (count === 3)
          await person.answer(promptIn(out).verificationUri, promptIn(out).userCode, "approve");
      },
    );
    expect(await runCli(["login"], io)).toBe(0);
    expect(err).toEqual([]);
    expect(polls.failures()).toBe(2);
    // 5 s (RFC 8628's default), then twice as long after each failure.
    expect(sleeps).toEqual([5000, 10000, 20000]);
    expect(JSON.parse(readFileSync(tokenFile(), "utf8"))).toMatchObject({ subject: "user-alice" });
  });

  it("backs off on 5xx and 429 answers too, up to one poll a minute, and keeps that interval (G2)", async () => {
    const person = new Person(system.fetch);
    let answer = 0;
    const polls = failingPolls(7, () =>
      answer++ % 2 === 0
        ? new Response("<h1>Bad gateway</h1>", { status: 502, headers: { "content-type": "text/html" } })
        : new Response(null, { status: 429 }),
    );
    let clock = Date.now();
    const { io, out, err, sleeps } = recordingIo(
      { CONTACTS_CONFIG_DIR: config.dir },
      polls.fetch,
      async (count, printed) => {
        clock += sleeps.at(-1) ?? 0;
        if (count === 8)
          await person.answer(promptIn(printed).verificationUri, promptIn(printed).userCode, "approve");
      },
      { now: () => clock },
    );
    expect(await runCli(["login"], io)).toBe(0);
    expect(err).toEqual([]);
    expect(sleeps).toEqual([5000, 10000, 20000, 40000, 60000, 60000, 60000, 60000]);
    expect(out.at(-1)).toMatch(/^Logged in as user-alice\./);
  });

  it("gives up when the code expires, saying the IdP could not be reached, after few polls (G2)", async () => {
    const polls = failingPolls(Number.POSITIVE_INFINITY, () => new TypeError("fetch failed"));
    let clock = Date.now();
    const { io, err, sleeps } = recordingIo(
      { CONTACTS_CONFIG_DIR: config.dir },
      polls.fetch,
      async () => {
        clock += sleeps.at(-1) ?? 0;
      },
      { now: () => clock },
    );
    expect(await runCli(["login"], io)).toBe(5);
    expect(err).toEqual([
      "contacts: the IdP could not be reached until the code expired; check the network and run contacts login again",
    ]);
    // 600 seconds: 5 + 10 + 20 + 40 + 60 × 9 = 615, so 13 waits and 12 polls (not 120).
    expect(sleeps).toHaveLength(13);
    expect(polls.failures()).toBe(12);
  });
});

describe("the reporting service's secret (G6)", () => {
  interface Sent {
    url: string;
    method: string;
    headers: Record<string, string>;
    body: string;
  }

  function spyingIo(
    env: Record<string, string>,
    answer?: (request: Request) => Response | Error | undefined,
  ) {
    const sent: Sent[] = [];
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      env,
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      fetch: async (input, init) => {
        const request = new Request(input, init);
        sent.push({
          url: request.url,
          method: request.method,
          headers: Object.fromEntries(request.headers),
          body: await request.clone().text(),
        });
        const outcome = answer?.(request);
        if (outcome instanceof Error) throw outcome;
        return outcome ?? system.fetch(request);
      },
    };
    return { io, sent, out, err };
  }

  it("authenticates with HTTP Basic only: never in the URL, the form or any other request (G6)", async () => {
    const { io, sent, err } = spyingIo({ CONTACTS_CLIENT_SECRET: DEV_REPORTING_SERVICE_SECRET });
    expect(await runCli(["stats"], io)).toBe(0);
    expect(err).toEqual([]);

    const tokenRequests = sent.filter((request) => request.url === `${ISSUER}/token`);
    expect(tokenRequests).toHaveLength(1);
    const [token] = tokenRequests;
    expect(token?.method).toBe("POST");
    // RFC 6749 §2.3.1: id and secret, each form-urlencoded, joined by ":", in base64.
    const [scheme, credentials = ""] = String(token?.headers.authorization).split(" ");
    expect(scheme).toBe("Basic");
    const [id = "", password = ""] = Buffer.from(credentials, "base64").toString().split(":");
    expect(decodeURIComponent(id)).toBe("reporting-service");
    expect(decodeURIComponent(password)).toBe(DEV_REPORTING_SERVICE_SECRET);
    const expected = credentials;
    const form = new URLSearchParams(token?.body);
    expect(form.get("grant_type")).toBe("client_credentials");
    expect(form.has("client_secret")).toBe(false);

    // Anywhere else (URLs, bodies, other headers, other requests), neither the secret nor its Basic form.
    for (const request of sent) {
      const { authorization, ...otherHeaders } = request.headers;
      const elsewhere = [request.url, request.body, JSON.stringify(otherHeaders)];
      if (request !== token) elsewhere.push(authorization ?? "");
      for (const text of elsewhere) {
        expect(text).not.toContain(DEV_REPORTING_SERVICE_SECRET);
        expect(text).not.toContain(expected);
      }
    }
    // The API saw only the service's access token.
    const toApi = sent.filter((request) => request.url.startsWith(API));
    expect(toApi).toHaveLength(1);
    expect(toApi[0]?.headers.authorization).toMatch(/^Bearer /);
  });

  const secret = "a-secret-that-must-never-show-up-0123456789";
  const failures: Array<[string, (request: Request) => Response | Error | undefined]> = [
    ["the IdP refuses the secret", () => undefined],
    [
      "the IdP cannot be reached",
      (request) => (request.url.startsWith(ISSUER) ? new TypeError("fetch failed") : undefined),
    ],
    [
      "the token endpoint fails with an HTML page",
      (request) =>
        request.url.endsWith("/token")
          ? new Response(`<pre>${request.headers.get("authorization")}</pre>`, { status: 500 })
          : undefined,
    ],
    [
      "the IdP echoes the credentials in its error",
      (request) =>
        request.url.endsWith("/token")
          ? Response.json(
              {
                error: "invalid_request",
                error_description: `bad ${request.headers.get("authorization")} ${secret}`,
              },
              { status: 400 },
            )
          : undefined,
    ],
    [
      "the API fails",
      (request) => (request.url.startsWith(API) ? new Response(secret, { status: 500 }) : undefined),
    ],
  ];

  it.each(failures)("never prints the secret when %s (G6)", async (_case, answer) => {
    // The API case needs a secret the IdP accepts; the others use one it does not know.
    const apiCase = _case === "the API fails";
    const used = apiCase ? DEV_REPORTING_SERVICE_SECRET : secret;
    const { io, out, err, sent } = spyingIo({ CONTACTS_CLIENT_SECRET: used }, answer);
    expect(await runCli(["stats"], io)).toBe(1);
    const printed = [...out, ...err].join("\n");
    expect(err.join("\n")).toMatch(/^contacts: /);
    expect(printed).not.toContain(used);
    for (const { headers } of sent) {
      const credentials = headers.authorization?.split(" ")[1];
      if (credentials) expect(printed).not.toContain(credentials);
    }
    expect(printed).not.toMatch(/\n\s+at /);
  });

  it("never prints the secret read from a file, even when the IdP refuses it (G6)", async () => {
    const file = join(config.dir, "secret");
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    const { io, out, err } = spyingIo({});
    expect(await runCli(["stats", "--secret-file", file], io)).toBe(1);
    expect(err.join("\n")).toContain("invalid_client");
    expect([...out, ...err].join("\n")).not.toContain(secret);
  });
});

describe("contacts login and the verification page's origin (G8)", () => {
  it("names the IdP's host to compare with, and warns about nothing when the page is on it (G8)", async () => {
    const person = new Person(system.fetch);
    const { io, out, err } = recordingIo({ CONTACTS_CONFIG_DIR: config.dir }, system.fetch, async (count) => {
      if (count === 1) await person.answer(promptIn(out).verificationUri, promptIn(out).userCode, "approve");
    });
    expect(await runCli(["login"], io)).toBe(0);
    expect(out).toContain("The page must be on 127.0.0.1:4000 and show the same code.");
    expect(err).toEqual([]);
  });

  it("warns, naming both hosts, when the IdP's answer sends the person to a page on another origin, and opens nothing (G8)", async () => {
    const person = new Person(system.fetch);
    const requested: string[] = [];
    // A tampered device authorization response: the real code, but pages on another site.
    const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const request = new Request(input, init);
      requested.push(request.url);
      const response = await system.fetch(request);
      if (new URL(request.url).pathname !== "/device/auth" || !response.ok) return response;
      const body = (await response.json()) as Record<string, string>;
      return Response.json({
        ...body,
        verification_uri: "https://login.evil.example/device",
        verification_uri_complete: `https://login.evil.example/device?user_code=${body.user_code}`,
      });
    };
    const { io, out, err } = recordingIo({ CONTACTS_CONFIG_DIR: config.dir }, fetch, async (count) => {
      // The person knows better and uses the IdP's own page.
      if (count === 1) await person.answer(`${ISSUER}/device`, promptIn(out).userCode, "approve");
    });
    expect(await runCli(["login"], io)).toBe(0);
    const prompt = promptIn(out);
    expect(prompt.verificationUri).toBe("https://login.evil.example/device");
    expect(out).toContain("The page must be on 127.0.0.1:4000 and show the same code.");
    expect(err).toEqual([
      "contacts: warning: https://login.evil.example/device is not on 127.0.0.1:4000, the IdP you are logging in to. Enter the code there only if you know why.",
      `contacts: warning: https://login.evil.example/device?user_code=${prompt.userCode} is not on 127.0.0.1:4000, the IdP you are logging in to. Enter the code there only if you know why.`,
    ]);
    // The command line never contacts (or opens) the other site itself.
    expect(requested.some((url) => url.includes("evil.example"))).toBe(false);
  });
});

/**
 * Keeps docs/configuration.md true: it is what scripts/env-reference.ts renders
 * from the variable lists now; every BFF_*, IDP_* and API_* name in the code,
 * the scripts and the docs is in a list; and every listed variable is read.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

import { apiSettingsFromEnvironment } from "../../api/src/env.ts";
import { bffSettingsFromEnvironment } from "../../bff/src/env.ts";
import { idpSettingsFromEnvironment } from "../../idp/src/env.ts";
import { COMPONENTS, REFERENCE_PATH, renderConfigurationReference } from "../../scripts/env-reference.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const NAME = /\b(?:BFF|IDP|API)_[A-Z0-9_]+\b/g;
const listed = new Set(COMPONENTS.flatMap((component) => component.variables.map((v) => v.name)));

/** Files under `dir` (relative to the root) whose name matches `pattern`, without tests. */
function files(dir: string, pattern: RegExp): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name === "dist" || entry.name.startsWith(".")) continue;
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (pattern.test(entry.name) && !/\.(test|spec)\.tsx?$/.test(entry.name)) found.push(child);
    }
  };
  walk(join(ROOT, dir));
  return found;
}

const packages = readdirSync(ROOT, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && readdirSync(join(ROOT, entry.name)).includes("src"))
  .map((entry) => entry.name);
const code = [
  ...packages.flatMap((name) => files(join(name, "src"), /\.tsx?$/)),
  ...files("scripts", /\.ts$/),
  ...files("e2e", /\.ts$/),
];
const docs = [
  join(ROOT, "README.md"),
  ...files("docs", /\.md$/).filter((path) => path !== REFERENCE_PATH),
  ...packages.flatMap((name) => files(name, /^README\.md$/)),
];

/** Constants such as BFF_ROUTES or IDP_ORIGIN: names in the code that are no variables. */
const declared = new Set(
  code.flatMap((path) =>
    [
      ...readFileSync(path, "utf8").matchAll(
        /\b(?:const|let|var|function|class|type|interface|enum)\s+((?:BFF|IDP|API)_[A-Z0-9_]+)\b/g,
      ),
    ].map((match) => match[1] ?? ""),
  ),
);

/** Each name that is no declared constant and not listed, with the files that mention it. */
function unlisted(paths: string[]): Record<string, string[]> {
  const missing: Record<string, string[]> = {};
  for (const path of paths) {
    for (const [name] of readFileSync(path, "utf8").matchAll(NAME)) {
      // `API_INTROSPECTION_*`: a family of variables, known when one listed name starts with it.
      const known = name.endsWith("_")
        ? [...listed].some((variable) => variable.startsWith(name))
        : listed.has(name) || declared.has(name);
      if (!known) missing[name] = [...(missing[name] ?? []), relative(ROOT, path)];
    }
  }
  return missing;
}

/** The names a parser reads from the environment it is given. */
function namesRead(parse: (env: NodeJS.ProcessEnv) => unknown, env: NodeJS.ProcessEnv): Set<string> {
  const read = new Set<string>();
  const watched = new Proxy(env, {
    get(target, key) {
      if (typeof key === "string") read.add(key);
      return Reflect.get(target, key);
    },
  });
  parse(watched);
  return read;
}

describe("docs/configuration.md, the environment reference", () => {
  it("is what `pnpm docs:env` renders from the variable lists now", () => {
    const committed = readFileSync(REFERENCE_PATH, "utf8");
    expect(committed, "docs/configuration.md is out of date: run pnpm docs:env").toBe(
      renderConfigurationReference(),
    );
  });

  it("lists every BFF_*, IDP_* and API_* variable named in the code, the scripts and the e2e setup", () => {
    expect(code.length).toBeGreaterThan(50);
    expect(unlisted(code)).toEqual({});
  });

  it("lists every variable the docs name", () => {
    expect(unlisted(docs)).toEqual({});
  });

  it("lists each variable once, each under its own component's prefix", () => {
    const names = COMPONENTS.flatMap((component) => component.variables.map((v) => v.name));
    expect(names.length).toBe(listed.size);
    const prefixes = ["BFF_", "IDP_", "API_"];
    COMPONENTS.forEach((component, index) => {
      for (const variable of component.variables)
        expect(variable.name).toMatch(new RegExp(`^${prefixes[index]}`));
    });
  });

  it("lists exactly what each server's parser reads", () => {
    const [bff, idp, api] = COMPONENTS.map((component) => new Set(component.variables.map((v) => v.name)));
    const bffRead = namesRead(bffSettingsFromEnvironment, {
      BFF_ISSUER: "https://id.example.com",
      BFF_CLIENT_ID: "web-bff",
      BFF_CLIENT_SECRET: "client-secret",
      BFF_REDIRECT_URI: "https://app.example.com/bff/callback",
      BFF_POST_LOGOUT_REDIRECT_URI: "https://app.example.com/",
      BFF_API_BASE_URL: "https://api.example.com",
      BFF_COOKIE_SECRETS: "a-cookie-secret-of-32-characters-or-more",
    });
    const idpRead = namesRead((env) => idpSettingsFromEnvironment(env, ROOT), {});
    const apiRead = namesRead((env) => apiSettingsFromEnvironment(env, ROOT), {
      API_TOKEN_VALIDATION: "introspection",
      API_INTROSPECTION_CLIENT_SECRET: "s3cret",
    });
    expect(bffRead).toEqual(bff);
    expect(idpRead).toEqual(idp);
    expect(apiRead).toEqual(api);
  });
});

import { describe, expect, it } from "vitest";

import { browserUrl } from "./node-listener.ts";

const ORIGIN = "http://localhost:3000";

/** What the URL parser makes of a request target: the reference the short way must match. */
function parsed(target: string) {
  const { pathname, search } = new URL(target, ORIGIN);
  return { pathname, search };
}

describe("browserUrl: a request target's path and query, as the URL parser reads them", () => {
  const targets = [
    "/api/contacts",
    "/api/contacts?",
    "/api/contacts?limit=1&q=a%20b",
    "/api/contacts/42?x=y?z",
    "/api/",
    "/api//contacts",
    "/api/./contacts",
    "/api/x/../contacts",
    "/api/../bff/session",
    "/api/%2e%2e/bff/session",
    "/api/a\\b",
    "/api/caf\u00e9",
    "/api/a b",
    '/api/a"b?c"d',
    "/api/a?b'c",
    "/api/a?b<c>`d",
    "/api/a#frag",
    "/api/a?b#frag",
    "/api/{x}|^[y]",
    "/api/files/report.pdf",
    "/bff/session",
    "//evil.example/api/x",
  ];
  for (const target of targets) {
    it(JSON.stringify(target), () => {
      expect(browserUrl(target, ORIGIN)).toEqual(parsed(target));
    });
  }

  it("agrees with the parser on 5,000 random targets under /api/", () => {
    const alphabet = "abz09-_~.!$&'()*+,;=:@/?%#\\\"<>`{}|^[] \u00e9\t";
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 5_000; i++) {
      const length = Math.floor(random() * 12);
      let target = "/api/";
      for (let j = 0; j < length; j++) target += alphabet[Math.floor(random() * alphabet.length)];
      expect(browserUrl(target, ORIGIN), target).toEqual(parsed(target));
    }
  });
});

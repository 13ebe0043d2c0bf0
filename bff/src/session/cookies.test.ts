import { parse } from "hono/utils/cookie";
import { describe, expect, it } from "vitest";

import { CookieJar } from "./cookies.ts";

/**
 * The node:http path reads cookies with CookieJar, a Hono app with Hono's parser
 * (docs/decisions/025): both must find the same value for every name, or a session
 * would be seen on one path and not on the other.
 */
const HEADERS = [
  "a=1; b=2",
  "  a=1 ;b = 2 ; c=",
  'q="quoted"; r="half',
  "dup=first; dup=second",
  "bad=semi\\colon; bad=ok",
  "esc=%41%42; broken=%E0%A4%A",
  "sp=a b; tab=\tx\t",
  "noequals; x=1",
  "=novalue; y=2",
  'a b=1; c"d=2; e\\f=3; ok=4',
  "eq=a=b=c",
  "__Host-bff-session=Fe26.2**abc*def~2; __Host-bff-session-1=part",
  "",
];

describe("CookieJar", () => {
  for (const header of HEADERS) {
    it(`reads what Hono's parser reads: ${JSON.stringify(header)}`, () => {
      const jar = new CookieJar(header);
      const hono = parse(header);
      const names = new Set([...Object.keys(hono), ...jar.names()]);
      for (const name of names) expect(jar.get(name), name).toBe(hono[name]);
    });
  }

  it("names every name sent more than once", () => {
    const jar = new CookieJar("s=1; t=2; s=3; s=4; u=5; t=6");
    expect(jar.names()).toEqual(["s", "t", "u"]);
    expect(jar.repeatedNames()).toEqual(["s", "t"]);
    expect(new CookieJar("s=1; t=2").repeatedNames()).toEqual([]);
  });

  it("gives the first value sent as sent: quoted, encoded or invalid alike", () => {
    const jar = new CookieJar(' a = "x%41" ; b=%41; c=\\bad; a=2');
    expect(jar.firstSent("a")).toBe('"x%41"');
    expect(jar.get("a")).toBe("xA");
    expect(jar.firstSent("b")).toBe("%41");
    expect(jar.firstSent("c")).toBe("\\bad");
    expect(jar.get("c")).toBeUndefined();
    expect(jar.firstSent("d")).toBeUndefined();
  });

  it("answers one Set-Cookie line per name, the last write winning", () => {
    const written: string[] = [];
    const jar = new CookieJar(undefined, (name) => written.push(name));
    jar.set("__Host-a", "1", "Strict", 60);
    jar.set("__Host-b", "2", "Lax", 60);
    jar.set("__Host-a", "3", "Strict", 0);
    const lines = jar.setCookieLines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^__Host-b=2; Max-Age=60; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    expect(lines[1]).toMatch(/^__Host-a=3; Max-Age=0; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    expect(written).toEqual(["__Host-a", "__Host-b", "__Host-a"]);
  });
});

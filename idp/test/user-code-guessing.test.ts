/**
 * RFC 8628 §5.1: user codes are short (about 34.5 bits), so the code entry
 * page limits guessing. After ten wrong codes from one address, that address
 * is refused (429, Retry-After) before the code is looked up, so even the
 * right code reads like a wrong one and can neither approve nor deny anyone's
 * device. Other addresses are unaffected, and the limit lifts with time.
 */
import { inject } from "light-my-request";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { createUserCodeThrottle } from "../src/device-flow.ts";
import type { Idp } from "../src/index.ts";
import { API, testIdp } from "./helpers.ts";

const CLI = "contacts-cli";
const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

let idp: Idp;
beforeEach(async () => {
  idp = await testIdp();
});
afterEach(async () => {
  await idp.close();
});

/** The device's side: a public client naming itself. */
async function fromDevice(path: string, form: Record<string, string>) {
  const response = await inject(idp.listener, {
    method: "POST",
    url: path,
    headers: { host: "127.0.0.1:4000", "content-type": "application/x-www-form-urlencoded" },
    payload: new URLSearchParams({ client_id: CLI, ...form }).toString(),
  });
  return JSON.parse(response.body) as Record<string, string>;
}

async function startDeviceLogin() {
  const body = await fromDevice("/device/auth", { scope: "openid contacts:read", resource: API });
  if (!body.user_code || !body.device_code) throw new Error(JSON.stringify(body));
  return { userCode: body.user_code, deviceCode: body.device_code };
}

async function pollError(deviceCode: string) {
  const body = await fromDevice("/token", {
    grant_type: DEVICE_CODE_GRANT,
    device_code: deviceCode,
    resource: API,
  });
  return body.error;
}

/**
 * A person's browser at one network address: opens the code entry page (for
 * its session cookie and form secret), then submits the form.
 */
async function submitCode(address: string, form: Record<string, string>) {
  const entry = await inject(idp.listener, {
    method: "GET",
    url: "/device",
    remoteAddress: address,
    headers: { host: "127.0.0.1:4000" },
  });
  const cookie = [entry.headers["set-cookie"] ?? []]
    .flat()
    .map((line) => line.split(";")[0])
    .join("; ");
  const xsrf = /name="xsrf" value="([^"]*)"/.exec(entry.body)?.[1] ?? "";
  return inject(idp.listener, {
    method: "POST",
    url: "/device",
    remoteAddress: address,
    headers: { host: "127.0.0.1:4000", cookie, "content-type": "application/x-www-form-urlencoded" },
    payload: new URLSearchParams({ xsrf, ...form }).toString(),
  });
}

/** A wrong code that still has the right shape (base-20, ****-****). */
const guess = (i: number) => `BCDF-${"GHJK".slice(0, 3)}${"LMNPQRSTVW"[i % 10]}`;

describe("guessing user codes (RFC 8628 §5.1, F21, F24)", () => {
  it("refuses an address after ten wrong codes, even with the right code, which is left untouched (F24) (X3)", async () => {
    const victim = await startDeviceLogin();
    for (let i = 0; i < 10; i++) {
      const wrong = await submitCode("203.0.113.7", { user_code: guess(i) });
      expect(wrong.statusCode).toBe(400);
      expect(wrong.body).toContain("That code is not valid.");
    }

    // The right code now gets the same refusal as any other: nothing tells the guesser it was right.
    const right = await submitCode("203.0.113.7", { user_code: victim.userCode });
    expect(right.statusCode).toBe(429);
    expect(Number(right.headers["retry-after"])).toBeGreaterThan(0);
    expect(right.body).toContain("Too many wrong codes.");
    expect(right.body).not.toContain("Connect this device?");

    // Nor can the guesser approve or deny the victim's device.
    const approve = await submitCode("203.0.113.7", { user_code: victim.userCode, confirm: "yes" });
    expect(approve.statusCode).toBe(429);
    const deny = await submitCode("203.0.113.7", {
      user_code: victim.userCode,
      confirm: "yes",
      abort: "yes",
    });
    expect(deny.statusCode).toBe(429);
    expect(await pollError(victim.deviceCode)).toBe("authorization_pending");

    // The person, from their own address, still connects their device.
    const person = await submitCode("198.51.100.20", { user_code: victim.userCode });
    expect(person.statusCode).toBe(200);
    expect(person.body).toContain("Connect this device?");
  });

  it("does not count a right code, an empty form or an expired page as a guess", async () => {
    const device = await startDeviceLogin();
    for (let i = 0; i < 9; i++) {
      expect((await submitCode("203.0.113.8", { user_code: guess(i) })).statusCode).toBe(400);
    }
    for (let i = 0; i < 3; i++) {
      expect((await submitCode("203.0.113.8", { user_code: device.userCode })).statusCode).toBe(200);
      expect((await submitCode("203.0.113.8", { user_code: "" })).statusCode).toBe(400);
    }
    // The tenth wrong code is still answered as wrong; only then is the address refused.
    expect((await submitCode("203.0.113.8", { user_code: guess(9) })).statusCode).toBe(400);
    expect((await submitCode("203.0.113.8", { user_code: guess(0) })).statusCode).toBe(429);
  });
});

describe("the user code throttle", () => {
  it("counts per address over a sliding window", () => {
    let clock = 0;
    const throttle = createUserCodeThrottle({ limit: 2, windowMs: 60_000, now: () => clock });
    throttle.recordFailure("a");
    clock = 30_000;
    throttle.recordFailure("a");
    expect(throttle.waitSeconds("a")).toBe(30);
    expect(throttle.waitSeconds("b")).toBe(0);
    clock = 60_001;
    expect(throttle.waitSeconds("a")).toBe(0);
  });
});

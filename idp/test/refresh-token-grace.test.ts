/**
 * The refresh-token grace period (store/sqlite-adapter.ts, RefreshTokenGrace): a
 * confidential client that lost the answer to a refresh may present the token it
 * just used once more, for a short while, without the person's grant being revoked.
 * Outside that window, or with an older token, a replay still revokes everything.
 */
import { afterEach, describe, expect, it, vi } from "vitest";

import type { Idp } from "../src/app.ts";
import { API, loggedInTokens, refresh, type TokenSet, testIdp, userinfo } from "./helpers.ts";

let idp: Idp | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await idp?.close();
  idp = undefined;
});

async function start(graceSeconds?: number): Promise<Idp> {
  idp = await testIdp(graceSeconds === undefined ? {} : { refreshTokenGraceSeconds: graceSeconds });
  return idp;
}

async function refreshed(target: Idp, token: string): Promise<TokenSet> {
  const answer = await refresh(target, token, { resource: API });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as unknown as TokenSet;
}

describe("refresh-token grace period", () => {
  it("answers the token used last again within the window, and the grant survives", async () => {
    const target = await start();
    const { tokens } = await loggedInTokens(target);
    const lost = await refreshed(target, tokens.refresh_token as string); // the answer the client never saw

    const retried = await refreshed(target, tokens.refresh_token as string);
    expect(retried.refresh_token).not.toBe(tokens.refresh_token);
    expect(retried.refresh_token).not.toBe(lost.refresh_token);

    // The family is intact: the retry's token rotates on, and so would the lost answer's.
    const next = await refreshed(target, retried.refresh_token as string);
    expect((await refresh(target, next.refresh_token as string, { resource: API })).status).toBe(200);
    expect((await refresh(target, lost.refresh_token as string, { resource: API })).status).toBe(200);
  });

  it("revokes the grant when the used token comes back after the window", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const target = await start(5);
    const { tokens } = await loggedInTokens(target);
    const first = await refreshed(target, tokens.refresh_token as string);

    vi.setSystemTime(Date.now() + 6_000);
    const late = await refresh(target, tokens.refresh_token as string, { resource: API });
    expect(late.body.error).toBe("invalid_grant");
    expect((await refresh(target, first.refresh_token as string)).body.error).toBe("invalid_grant");
  });

  it("counts the window from the first use: retrying again and again does not extend it", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const target = await start(5);
    const { tokens } = await loggedInTokens(target);
    await refreshed(target, tokens.refresh_token as string);
    vi.setSystemTime(Date.now() + 3_000);
    const retried = await refreshed(target, tokens.refresh_token as string);
    vi.setSystemTime(Date.now() + 3_000); // 6 s after the first use, 3 s after the retry
    const late = await refresh(target, tokens.refresh_token as string, { resource: API });
    expect(late.body.error).toBe("invalid_grant");
    expect((await refresh(target, retried.refresh_token as string)).body.error).toBe("invalid_grant");
  });

  it("revokes the grant when an older token than the one used last comes back, even within the window", async () => {
    const target = await start();
    const { tokens } = await loggedInTokens(target);
    const first = await refreshed(target, tokens.refresh_token as string);
    const second = await refreshed(target, first.refresh_token as string);

    // `first` was rotated last and may come back; the original token is two rotations old.
    const stale = await refresh(target, tokens.refresh_token as string, { resource: API });
    expect(stale.body.error).toBe("invalid_grant");
    expect((await refresh(target, second.refresh_token as string)).body.error).toBe("invalid_grant");
    expect((await userinfo(target, tokens.access_token)).status).toBe(401);
  });

  it("with a window of 0 seconds, any replay revokes the grant at once", async () => {
    const target = await start(0);
    const { tokens } = await loggedInTokens(target);
    const first = await refreshed(target, tokens.refresh_token as string);
    const replay = await refresh(target, tokens.refresh_token as string, { resource: API });
    expect(replay.body.error).toBe("invalid_grant");
    expect((await refresh(target, first.refresh_token as string)).body.error).toBe("invalid_grant");
  });
});

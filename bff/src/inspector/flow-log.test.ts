import { describe, expect, it } from "vitest";

import { createFlowLogStore, MAX_PENDING_LOGIN_LOGS } from "./flow-log.ts";
import type { FlowStepInput } from "./steps.ts";

const step = (title: string): FlowStepInput =>
  ({ from: "bff", to: "idp", title, explanation: "", spec: [], details: {} }) as unknown as FlowStepInput;

describe("flow log store", () => {
  it("keeps session logs when many logins never come back: those have a budget of their own", () => {
    const store = createFlowLogStore({ now: Date.now, sessionLifetimeMs: 3600_000, maxLogs: 30 });
    store.append("session-a", [step("a session's step")]);
    for (let i = 0; i < 500; i++) store.append({ login: `state-${i}` }, [step(`login ${i}`)]);
    expect(store.view("session-a").steps.map((s) => s.title)).toEqual(["a session's step"]);

    // The newest pending logins are the ones kept, up to the budget.
    store.beginSession({ login: "state-499" }, { sid: "session-b", sub: "alice" });
    expect(store.view("session-b").steps.map((s) => s.title)).toEqual(["login 499"]);
    store.beginSession({ login: `state-${499 - MAX_PENDING_LOGIN_LOGS}` }, { sid: "session-c", sub: "bob" });
    expect(store.view("session-c").steps).toEqual([]);
  });
});

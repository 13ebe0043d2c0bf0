/**
 * The flow inspector's recorder: per BFF session, a bounded ring of the
 * protocol steps the BFF performed, kept in this process's memory only. It is a
 * teaching and debugging aid for development (refused in production mode by
 * config.ts): the log describes tokens and personal data, never their values.
 *
 * Recording is one line at each protocol step:
 *
 *   flow.record(session.sid, (steps) => steps.apiCall({ ... }));
 *
 * The builder runs only when the inspector is on, and whatever it throws is
 * logged and swallowed: a recorder never breaks the request it describes.
 *
 * A log is keyed by the session id the session store also uses (`sid`). Steps
 * before the session exists (the authorization request, the callback) are
 * recorded under the login's `state` and become the session's when it starts;
 * the logout's end-session redirect finds its session through the logout ticket.
 * After logout, the browser that logged out can still read its ended session's
 * log for a while (ended-log-cookie.ts).
 */
import { createHash } from "node:crypto";

import type { FlowLogView, FlowStep } from "@oidc-bff/shared";
import type { Context } from "hono";

import { type BffLogger, describeError } from "../logger.ts";
import { LOGIN_TTL_SECONDS } from "../session/login-transactions.ts";
import { LOGOUT_TICKET_TTL_SECONDS } from "../session/logout-ticket.ts";
import type { EndedLogCookie } from "./ended-log-cookie.ts";
import type { FlowStepInput, FlowSteps } from "./steps.ts";

/** Which log a step belongs to: a session id, a pending login (its state), or a logout ticket. */
export type FlowKey = string | { login: string } | { ticket: string };

/** Whose session a log is: back-channel logout names people and IdP sessions, not BFF sessions. */
export interface FlowOwner {
  sid: string;
  sub: string;
  idpSid?: string | undefined;
}

/** One session's log as the store keeps it; `GET /bff/inspector` adds whose it is (`session`). */
export type FlowLogContent = Omit<FlowLogView, "session">;

export type BuildSteps = (steps: FlowSteps) => FlowStepInput | FlowStepInput[];

/** Where the logs live: memory of this process (a development aid needs no more). */
export interface FlowLogStore {
  append(key: FlowKey, steps: FlowStepInput[]): void;
  /** Appends to the log of every session of this person (`sub`) or of this IdP session (`idpSid`). */
  appendFor(match: FlowMatch, steps: FlowStepInput[]): void;
  /** The session has started: what its login recorded becomes the start of its log. */
  beginSession(login: { login: string }, owner: FlowOwner): void;
  /** Lets `alias` (a logout ticket) name session `sid`'s log for a short while. */
  link(alias: { ticket: string }, sid: string): void;
  /** The steps of one session, oldest first. */
  view(sid: string): FlowLogContent;
  clear(sid: string): void;
}

/** Back-channel logout names an IdP session (`sid`) or a person (`sub`). */
export interface FlowMatch {
  sub?: string | undefined;
  idpSid?: string | undefined;
}

/** What the routes use: recording with the step catalog, none of whose work is done when off. */
export interface FlowLog extends Pick<FlowLogStore, "beginSession" | "link" | "view" | "clear"> {
  readonly enabled: boolean;
  /** Appends what `build` describes to the log named by `key`. Never throws. */
  record(key: FlowKey, build: BuildSteps): void;
  /** Appends to the log of every matching session (back-channel logout). Never throws. */
  recordFor(match: FlowMatch, build: BuildSteps): void;
  /** At logout: lets this browser still read session `sid`'s log for a while. Never throws. */
  keepReadableAfterLogout(c: Context, sid: string): Promise<void>;
  /** The ended session whose log this browser may still read (it logged out of it lately), if any. */
  endedSessionOf(c: Context): Promise<string | undefined>;
  /** At a new login: the previous session's log stops being readable here (a shared browser). */
  forgetEndedSession(c: Context): void;
}

/** When the inspector is off: nothing is built, nothing is kept. */
export const disabledFlowLog: FlowLog = {
  enabled: false,
  record() {},
  recordFor() {},
  beginSession() {},
  link() {},
  view: () => ({ steps: [], dropped: 0, limit: 0 }),
  clear() {},
  // Off: the inspector cookie is never set, and one a browser still carries is never read.
  keepReadableAfterLogout: async () => {},
  endedSessionOf: async () => undefined,
  forgetEndedSession() {},
};

export const DEFAULT_STEPS_PER_SESSION = 200;
/** Development holds few sessions; this bounds memory when a script logs in thousands of times. */
export const DEFAULT_MAX_LOGS = 100;
/**
 * Logins that never come back (a tab closed at the IdP, a script, a redirect
 * loop) get a small budget of their own, so they can never push the logs of
 * real sessions out.
 */
export const MAX_PENDING_LOGIN_LOGS = 20;

interface Log {
  steps: FlowStep[];
  dropped: number;
  next: number;
  expiresAt: number;
  owner: FlowOwner | undefined;
}

export interface FlowLogStoreOptions {
  now: () => number;
  /** A session's log is dropped when the session would end at the latest (its absolute lifetime). */
  sessionLifetimeMs: number;
  stepsPerSession?: number;
  maxLogs?: number;
}

/** Pending logins and tickets are keyed by a digest: the log's own keys never hold a protocol secret. */
const digest = (value: string) => createHash("sha256").update(value).digest("base64url");

/**
 * The logs in this process's memory: a ring of `stepsPerSession` steps per
 * session, at most `maxLogs` logs (the least recently written is dropped first),
 * each dropped when its session would have ended.
 *
 * @example
 * const flowLogs = createFlowLogStore({ now: Date.now, sessionLifetimeMs: 12 * 3600_000 });
 * const bff = createBff({ ...config, flowInspector: true }, { flowLogs });
 */
export function createFlowLogStore(options: FlowLogStoreOptions): FlowLogStore {
  const { now } = options;
  const limit = options.stepsPerSession ?? DEFAULT_STEPS_PER_SESSION;
  const maxLogs = options.maxLogs ?? DEFAULT_MAX_LOGS;
  /** Insertion order is recency order: a log written to moves to the end, the first is evicted first. */
  const logs = new Map<string, Log>();
  const aliases = new Map<string, { sid: string; expiresAt: number }>();

  function prune() {
    const time = now();
    for (const [key, log] of logs) if (log.expiresAt <= time) logs.delete(key);
    for (const [key, alias] of aliases) if (alias.expiresAt <= time) aliases.delete(key);
  }

  /** Drops the least recently written logs among `which` until fewer than `max` remain. */
  function evict(which: (key: string) => boolean, max: number) {
    const keys = [...logs.keys()].filter(which);
    for (let excess = keys.length - max + 1, i = 0; excess > 0; excess--, i++) logs.delete(keys[i] as string);
  }

  function create(key: string, expiresAt: number, owner: FlowOwner | undefined): Log {
    prune();
    if (key.startsWith("login:"))
      evict((candidate) => candidate.startsWith("login:"), MAX_PENDING_LOGIN_LOGS);
    evict(() => true, maxLogs);
    const log: Log = { steps: [], dropped: 0, next: 1, expiresAt, owner };
    logs.set(key, log);
    return log;
  }

  /** The live log for a key, created for a session or a pending login; a ticket only finds one. */
  function resolve(key: FlowKey): Log | undefined {
    const time = now();
    if (typeof key === "object" && "ticket" in key) {
      const alias = aliases.get(`ticket:${digest(key.ticket)}`);
      return alias && alias.expiresAt > time ? resolve(alias.sid) : undefined;
    }
    const id = typeof key === "string" ? key : `login:${digest(key.login)}`;
    const existing = logs.get(id);
    if (existing && existing.expiresAt > time) {
      logs.delete(id);
      logs.set(id, existing);
      return existing;
    }
    // A session without a log (the BFF restarted since its login) starts one now.
    const ttl = typeof key === "string" ? options.sessionLifetimeMs : LOGIN_TTL_SECONDS * 1000;
    return create(id, time + ttl, undefined);
  }

  function push(log: Log, inputs: FlowStepInput[]) {
    const at = new Date(now()).toISOString();
    for (const input of inputs) log.steps.push({ seq: log.next++, at, ...input });
    const excess = log.steps.length - limit;
    if (excess > 0) {
      log.steps.splice(0, excess);
      log.dropped += excess;
    }
  }

  return {
    append(key, inputs) {
      const log = resolve(key);
      if (log) push(log, inputs);
    },

    appendFor(match, inputs) {
      const time = now();
      for (const log of logs.values()) {
        const owner = log.owner;
        if (!owner || log.expiresAt <= time) continue;
        const named =
          match.idpSid !== undefined
            ? owner.idpSid === match.idpSid
            : match.sub !== undefined && owner.sub === match.sub;
        if (named) push(log, inputs);
      }
    },

    beginSession(login, owner) {
      const pendingId = `login:${digest(login.login)}`;
      const pending = logs.get(pendingId);
      logs.delete(pendingId);
      // Only who it is: the caller may pass the whole session, tokens included, which stay out of here.
      const who = { sid: owner.sid, sub: owner.sub, idpSid: owner.idpSid };
      const log = create(owner.sid, now() + options.sessionLifetimeMs, who);
      if (pending) {
        log.steps = pending.steps;
        log.dropped = pending.dropped;
        log.next = pending.next;
      }
    },

    link(alias, sid) {
      prune();
      if (aliases.size >= maxLogs) {
        const oldest = aliases.keys().next().value;
        if (oldest !== undefined) aliases.delete(oldest);
      }
      aliases.set(`ticket:${digest(alias.ticket)}`, {
        sid,
        expiresAt: now() + LOGOUT_TICKET_TTL_SECONDS * 1000,
      });
    },

    view(sid) {
      const log = logs.get(sid);
      if (!log || log.expiresAt <= now()) return { steps: [], dropped: 0, limit };
      return { steps: log.steps.map((step) => ({ ...step })), dropped: log.dropped, limit };
    },

    clear(sid) {
      const log = logs.get(sid);
      if (!log) return;
      // Numbering goes on, so steps recorded after the clear are never mistaken for earlier ones.
      log.steps = [];
      log.dropped = 0;
    },
  };
}

/**
 * The recorder the routes use: builds steps with the catalog and stores them.
 * Whatever goes wrong is logged and swallowed, never thrown into the request.
 */
export function createFlowLog(
  store: FlowLogStore,
  steps: FlowSteps,
  logger: BffLogger,
  endedLog: EndedLogCookie,
): FlowLog {
  function safely(what: string, action: () => void) {
    try {
      action();
    } catch (error) {
      logger.warn(`flow inspector: could not ${what}: ${describeError(error)}`);
    }
  }
  return {
    enabled: true,
    record: (key, build) => safely("record a step", () => store.append(key, [build(steps)].flat())),
    recordFor: (match, build) =>
      safely("record a back-channel step", () => store.appendFor(match, [build(steps)].flat())),
    beginSession: (login, owner) => safely("start a session's log", () => store.beginSession(login, owner)),
    link: (alias, sid) => safely("link a logout ticket", () => store.link(alias, sid)),
    view: (sid) => store.view(sid),
    clear: (sid) => store.clear(sid),
    async keepReadableAfterLogout(c, sid) {
      try {
        await endedLog.grant(c, sid);
      } catch (error) {
        logger.warn(
          `flow inspector: could not keep the ended session's log readable: ${describeError(error)}`,
        );
      }
    },
    endedSessionOf: (c) => endedLog.read(c),
    forgetEndedSession: (c) => safely("forget an ended session's log", () => endedLog.forget(c)),
  };
}

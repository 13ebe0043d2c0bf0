import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";

import type { Adapter, AdapterPayload } from "oidc-provider";

/**
 * oidc-provider's persistence, on SQLite (`node:sqlite`, built into Node 24).
 *
 * oidc-provider stores everything it remembers — sessions, interactions, grants,
 * authorization codes, access and refresh tokens — through one small interface
 * (upsert/find/findByUid/findByUserCode/consume/destroy/revokeByGrantId), called
 * once per model name ("Session", "Grant", "RefreshToken", ...). Each model is a
 * set of rows in one table here, keyed by (model, id). The payload is stored as
 * JSON; the few fields the provider looks things up by get their own columns.
 *
 * Expiry: `upsert` receives `expiresIn` (seconds). Expired rows are never
 * returned, and are swept away periodically.
 *
 * Refresh-token grace (see RefreshTokenGrace): the one refresh token a grant
 * rotated last may be presented again for a few seconds without counting as a
 * replay. The table `refresh_rotations` remembers, per grant, which token that
 * is and when it was first used.
 *
 * Device codes (RFC 8628) are kept a while longer: oidc-provider checks their
 * expiry itself from the payload, and only a code it can still find lets it
 * tell a polling device `expired_token` (and the person "that code has
 * expired") instead of "not found".
 */

/** How long a device code stays findable after it expired. */
const EXPIRED_DEVICE_CODE_GRACE_SECONDS = 10 * 60;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS oidc_model (
    model       TEXT NOT NULL,
    id          TEXT NOT NULL,
    payload     TEXT NOT NULL,
    grant_id    TEXT,
    user_code   TEXT,
    uid         TEXT,
    expires_at  INTEGER,         -- epoch milliseconds; NULL = does not expire
    consumed_at INTEGER,         -- epoch seconds; set once a code or token has been used
    PRIMARY KEY (model, id)
  ) STRICT;
  CREATE TABLE IF NOT EXISTS refresh_rotations (
    grant_id    TEXT PRIMARY KEY,
    token_id    TEXT NOT NULL,   -- the refresh token this grant rotated last
    consumed_ms INTEGER NOT NULL -- when it was first used, epoch milliseconds
  ) STRICT;
  CREATE INDEX IF NOT EXISTS oidc_model_grant ON oidc_model (model, grant_id) WHERE grant_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS oidc_model_uid ON oidc_model (model, uid) WHERE uid IS NOT NULL;
  CREATE INDEX IF NOT EXISTS oidc_model_user_code ON oidc_model (model, user_code) WHERE user_code IS NOT NULL;
  CREATE INDEX IF NOT EXISTS oidc_model_expiry ON oidc_model (expires_at) WHERE expires_at IS NOT NULL;
`;

const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

interface Row {
  payload: string;
  consumed_at: number | null;
  grant_id: string | null;
}

/**
 * A grace period for refresh-token rotation, as Okta ("grace period for token
 * rotation"), Auth0 ("reuse interval") and Keycloak ("refresh token max reuse")
 * offer. With strict rotation a client that sent a refresh request and lost the
 * answer — it crashed, its connection dropped, the provider hung past its
 * deadline — holds only the spent token, and presenting it again revokes the
 * person's whole grant. Within `seconds` of its first use, the token a grant
 * rotated *last* is taken again as if unused: oidc-provider rotates it once more
 * and the grant survives. Outside the window, or for any older token of the
 * grant, a replay still revokes everything (RFC 9700 §4.14.2).
 *
 * Only for the clients `appliesTo` names: confidential clients, which must
 * authenticate to present the token again, so a stolen refresh token alone is
 * not enough. 0 seconds turns it off.
 */
export interface RefreshTokenGrace {
  seconds: number;
  appliesTo: (clientId: string) => boolean;
}

const NO_GRACE: RefreshTokenGrace = { seconds: 0, appliesTo: () => false };

export interface SqliteStore {
  /** Pass this as oidc-provider's `adapter` configuration. */
  adapter: (model: string) => Adapter;
  /** Deletes every expired row now (also runs on open and every 10 minutes). */
  sweep(): void;
  close(): void;
}

/**
 * Opens (or creates) the SQLite file at `path` — or an in-memory database for
 * `":memory:"` — and returns an adapter factory for oidc-provider.
 *
 * @example
 * const store = openSqliteStore(".data/idp/oidc.sqlite");
 * const provider = new Provider(issuer, { adapter: store.adapter, ... });
 * // on shutdown:
 * store.close();
 */
export function openSqliteStore(
  path: string,
  now: () => number = Date.now,
  grace: RefreshTokenGrace = NO_GRACE,
): SqliteStore {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(path);
  if (path !== ":memory:") {
    // WAL lets readers and the writer proceed together; a crash loses at most the last commit.
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  }
  db.exec("PRAGMA busy_timeout = 5000;");
  db.exec(SCHEMA);

  const statements = {
    upsert: db.prepare(`
      INSERT INTO oidc_model (model, id, payload, grant_id, user_code, uid, expires_at, consumed_at)
      VALUES (:model, :id, :payload, :grantId, :userCode, :uid, :expiresAt, :consumedAt)
      ON CONFLICT (model, id) DO UPDATE SET
        payload = excluded.payload, grant_id = excluded.grant_id, user_code = excluded.user_code,
        uid = excluded.uid, expires_at = excluded.expires_at,
        -- once used, always used: a payload read inside the grace window must not undo it
        consumed_at = coalesce(oidc_model.consumed_at, excluded.consumed_at)`),
    find: db.prepare(`
      SELECT payload, consumed_at, grant_id FROM oidc_model
      WHERE model = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)`),
    findByUid: db.prepare(`
      SELECT payload, consumed_at, grant_id FROM oidc_model
      WHERE model = ? AND uid = ? AND (expires_at IS NULL OR expires_at > ?)`),
    findByUserCode: db.prepare(`
      SELECT payload, consumed_at, grant_id FROM oidc_model
      WHERE model = ? AND user_code = ? AND (expires_at IS NULL OR expires_at > ?)`),
    // The first use counts: a token taken again inside its grace window keeps its first time.
    consume: db.prepare(
      "UPDATE oidc_model SET consumed_at = ? WHERE model = ? AND id = ? AND consumed_at IS NULL",
    ),
    rotated: db.prepare(`
      INSERT INTO refresh_rotations (grant_id, token_id, consumed_ms) VALUES (?, ?, ?)
      ON CONFLICT (grant_id) DO UPDATE SET token_id = excluded.token_id, consumed_ms = excluded.consumed_ms`),
    lastRotated: db.prepare("SELECT token_id, consumed_ms FROM refresh_rotations WHERE grant_id = ?"),
    tokenGrant: db.prepare("SELECT grant_id FROM oidc_model WHERE model = ? AND id = ?"),
    destroy: db.prepare("DELETE FROM oidc_model WHERE model = ? AND id = ?"),
    revokeByGrantId: db.prepare("DELETE FROM oidc_model WHERE model = ? AND grant_id = ?"),
    forgetRotations: db.prepare("DELETE FROM refresh_rotations WHERE grant_id = ?"),
    sweep: db.prepare("DELETE FROM oidc_model WHERE expires_at IS NOT NULL AND expires_at <= ?"),
    sweepRotations: db.prepare(
      "DELETE FROM refresh_rotations WHERE grant_id NOT IN (SELECT grant_id FROM oidc_model WHERE grant_id IS NOT NULL)",
    ),
  } satisfies Record<string, StatementSync>;

  /** Whether this used refresh token is still inside its grace window (see RefreshTokenGrace). */
  function withinGrace(id: string, row: Row, clientId: unknown): boolean {
    if (grace.seconds <= 0 || row.grant_id === null) return false;
    if (typeof clientId !== "string" || !grace.appliesTo(clientId)) return false;
    const last = statements.lastRotated.get(row.grant_id) as
      | { token_id: string; consumed_ms: number }
      | undefined;
    return last?.token_id === id && now() - last.consumed_ms <= grace.seconds * 1000;
  }

  /** `refreshTokenId`: set when a refresh token is looked up, which may be inside its grace window. */
  function toPayload(found: unknown, refreshTokenId?: string): AdapterPayload | undefined {
    if (!found) return undefined;
    const row = found as Row;
    const parsed = JSON.parse(row.payload) as AdapterPayload;
    if (row.consumed_at === null) return parsed;
    if (refreshTokenId !== undefined && withinGrace(refreshTokenId, row, parsed.clientId)) return parsed;
    // oidc-provider reads `consumed` to detect a code or refresh token used twice.
    return { ...parsed, consumed: row.consumed_at };
  }

  class SqliteAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const keptFor = (seconds: number) =>
        this.model === "DeviceCode" ? seconds + EXPIRED_DEVICE_CODE_GRACE_SECONDS : seconds;
      statements.upsert.run({
        model: this.model,
        id,
        payload: JSON.stringify(payload),
        grantId: typeof payload.grantId === "string" ? payload.grantId : null,
        userCode: typeof payload.userCode === "string" ? payload.userCode : null,
        // Sessions are also looked up by their uid (the `sid` put in ID tokens).
        uid: this.model === "Session" && typeof payload.uid === "string" ? payload.uid : null,
        expiresAt: typeof expiresIn === "number" ? now() + keptFor(expiresIn) * 1000 : null,
        consumedAt: typeof payload.consumed === "number" ? payload.consumed : null,
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const row = statements.find.get(this.model, id, now());
      return toPayload(row, this.model === "RefreshToken" ? id : undefined);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return toPayload(statements.findByUid.get(this.model, uid, now()));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return toPayload(statements.findByUserCode.get(this.model, userCode, now()));
    }

    async consume(id: string): Promise<void> {
      const firstUse = statements.consume.run(Math.floor(now() / 1000), this.model, id).changes === 1;
      if (this.model !== "RefreshToken" || !firstUse) return;
      // This grant's newest rotation: the only token that may be taken again within the grace window.
      const row = statements.tokenGrant.get(this.model, id) as { grant_id: string | null } | undefined;
      if (row?.grant_id) statements.rotated.run(row.grant_id, id, now());
    }

    async destroy(id: string): Promise<void> {
      statements.destroy.run(this.model, id);
    }

    // Called by oidc-provider once per model when a grant is revoked (logout,
    // revocation, a refresh token or code used twice): every token of this
    // model issued under that grant goes.
    async revokeByGrantId(grantId: string): Promise<void> {
      statements.revokeByGrantId.run(this.model, grantId);
      if (this.model === "RefreshToken") statements.forgetRotations.run(grantId);
    }
  }

  const sweep = () => {
    statements.sweep.run(now());
    statements.sweepRotations.run();
  };
  sweep();
  const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
  timer.unref();

  return {
    adapter: (model) => new SqliteAdapter(model),
    sweep,
    close() {
      clearInterval(timer);
      if (db.isOpen) db.close();
    },
  };
}

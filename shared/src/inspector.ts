/**
 * What the BFF's flow inspector answers at `GET /bff/inspector` (development
 * only; shared/design/system.md, "Flow inspector"): the protocol steps of one
 * session, every value already redacted by the BFF. The BFF builds these and
 * the SPA draws them, so both read the shape from here.
 */

/** The flow inspector's route; a 404 when the BFF runs without it. */
export const FLOW_INSPECTOR_ROUTE = "/bff/inspector";

/** The four parties of the system, in the order of the timeline's lanes. */
export const FLOW_PARTIES = ["browser", "bff", "idp", "api"] as const;
export type FlowParty = (typeof FLOW_PARTIES)[number];

/** A JSON value a step's details may hold (already redacted: never a secret's value). */
export type FlowValue = string | number | boolean | null | FlowValue[] | { [key: string]: FlowValue };
export type FlowDetails = { [key: string]: FlowValue };

/** The section of a specification that asks for a step. */
export interface SpecLink {
  /** As people cite it: "RFC 6749 §4.1.3". */
  label: string;
  href: string;
}

export interface FlowStep {
  /** Position in this session's log, from 1; a gap at the start means older steps were dropped. */
  seq: number;
  /** ISO 8601 time the BFF recorded it. */
  at: string;
  /** Who sent it to whom; `from === to` is a step within one party. */
  from: FlowParty;
  to: FlowParty;
  title: string;
  /** One sentence: what happened, and why the protocol does it. */
  explanation: string;
  spec: SpecLink;
  details: FlowDetails;
}

/**
 * Whose log it is: `"current"`, the live session's; `"ended"`, the session this
 * browser logged out of a few minutes ago, read-only (the logout, revocation,
 * end-session and back-channel steps happen after the session cookie is gone).
 */
export type FlowLogOf = "current" | "ended";

export interface FlowLogView {
  steps: FlowStep[];
  /** Older steps the BFF no longer keeps for this session. */
  dropped: number;
  /** Most steps kept per session. */
  limit: number;
  session: FlowLogOf;
}

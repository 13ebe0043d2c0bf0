/**
 * Where a step's arrow goes on the timeline: four lanes (Browser, BFF, IdP,
 * API), an arrow from the sender's lane to the receiver's. Pure functions, so
 * the drawing and the words read by screen readers come from one place.
 */
import { FLOW_PARTIES, type FlowParty } from "@oidc-bff/shared";

export const PARTY_NAMES: Record<FlowParty, string> = {
  browser: "Browser",
  bff: "BFF",
  idp: "IdP",
  api: "API",
};

export interface Arrow {
  /** First and last lane the arrow covers, 1-based (CSS grid columns). */
  firstLane: number;
  lastLane: number;
  direction: "right" | "left" | "self";
  /**
   * Margins (percent of the lanes covered) that make the arrow start and end at the
   * middle of the sender's and receiver's lanes; a step within one party is a loop
   * in the right half of its lane.
   */
  inset: { left: number; right: number };
  /** The arrow in words: "BFF → IdP", or "BFF (within itself)". */
  text: string;
}

/** The lane of a party, 1-based; an unknown party (a newer BFF) goes to the BFF's lane. */
export function laneOf(party: string): number {
  const index = FLOW_PARTIES.indexOf(party as FlowParty);
  return (index === -1 ? FLOW_PARTIES.indexOf("bff") : index) + 1;
}

function nameOf(party: string): string {
  return PARTY_NAMES[party as FlowParty] ?? party;
}

export function arrowOf(step: { from: string; to: string }): Arrow {
  const from = laneOf(step.from);
  const to = laneOf(step.to);
  if (from === to) {
    return {
      firstLane: from,
      lastLane: from,
      direction: "self",
      text: `${nameOf(step.from)} (within itself)`,
      inset: { left: 50, right: 15 },
    };
  }
  const half = 50 / (Math.abs(to - from) + 1);
  return {
    firstLane: Math.min(from, to),
    lastLane: Math.max(from, to),
    direction: to > from ? "right" : "left",
    text: `${nameOf(step.from)} → ${nameOf(step.to)}`,
    inset: { left: half, right: half },
  };
}

/** A step's details as the page shows them: indented JSON (the BFF has already redacted them). */
export function formatDetails(details: unknown): string {
  return JSON.stringify(details, null, 2) ?? "{}";
}

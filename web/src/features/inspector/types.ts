/**
 * What `GET /bff/inspector` answers (shared/design/system.md, "Flow inspector"):
 * the protocol steps of the current session, every value already redacted by the BFF.
 */
export const PARTIES = ["browser", "bff", "idp", "api"] as const;
export type Party = (typeof PARTIES)[number];

export type Shown = string | number | boolean | null | Shown[] | { [key: string]: Shown };

export interface FlowStep {
  seq: number;
  /** ISO 8601. */
  at: string;
  from: Party;
  to: Party;
  title: string;
  explanation: string;
  spec: { label: string; href: string };
  details: Record<string, Shown>;
}

export interface FlowLogView {
  steps: FlowStep[];
  /** Older steps the BFF no longer keeps. */
  dropped: number;
  /** Most steps kept per session. */
  limit: number;
}

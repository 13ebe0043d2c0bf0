import { FLOW_PARTIES, type FlowLogView, type FlowStep } from "@oidc-bff/shared";

import { formatDateTime } from "../../lib/format.ts";
import { arrowOf, formatDetails, PARTY_NAMES } from "./lanes.ts";

/**
 * The steps as a sequence diagram: four lanes (Browser, BFF, IdP, API) and
 * one arrow per step. The arrow is drawn and also written out ("BFF → IdP"),
 * and the steps are an ordered list, so the order and the direction reach
 * people who do not see the drawing.
 */
export function Timeline({ log }: { log: FlowLogView }) {
  return (
    <section aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Timeline</h2>
      {log.dropped > 0 ? (
        <p className="muted">
          {log.dropped} older steps are no longer kept (the BFF keeps the last {log.limit}).
        </p>
      ) : null}
      {log.steps.length === 0 ? (
        <p className="muted">No steps recorded yet. Use the app (open Contacts, for example) and refresh.</p>
      ) : (
        <>
          <div className="lanes" aria-hidden="true">
            {FLOW_PARTIES.map((party) => (
              <span key={party} className={`lane-name lane-${party}`}>
                {PARTY_NAMES[party]}
              </span>
            ))}
          </div>
          <ol className="flow" aria-label="Protocol steps">
            {log.steps.map((step) => (
              <StepItem key={step.seq} step={step} />
            ))}
          </ol>
        </>
      )}
    </section>
  );
}

function StepItem({ step }: { step: FlowStep }) {
  const arrow = arrowOf(step);
  const at = new Date(step.at);
  return (
    <li className="flow-step">
      {/* The drawing; the same words follow in the text below, read once by screen readers. */}
      <div className="flow-lanes" aria-hidden="true">
        <div
          className={`flow-arrow flow-arrow-${arrow.direction}`}
          style={{
            gridColumn: `${arrow.firstLane} / ${arrow.lastLane + 1}`,
            marginLeft: `${arrow.inset.left}%`,
            marginRight: `${arrow.inset.right}%`,
          }}
        >
          <span className="flow-arrow-text">{arrow.text}</span>
        </div>
      </div>
      <h3 className="flow-title">
        <span className="flow-seq">{step.seq}.</span> {step.title}
      </h3>
      <p className="flow-meta">
        <span>{arrow.text}</span>
        {Number.isNaN(at.getTime()) ? null : (
          <>
            {" · "}
            <time dateTime={step.at}>{formatDateTime(at)}</time>
          </>
        )}
        {" · "}
        <a href={step.spec.href} target="_blank" rel="noreferrer">
          {step.spec.label}
        </a>
      </p>
      <p className="flow-explanation">{step.explanation}</p>
      <details className="flow-details">
        <summary>Details</summary>
        <pre>
          <code>{formatDetails(step.details)}</code>
        </pre>
      </details>
    </li>
  );
}

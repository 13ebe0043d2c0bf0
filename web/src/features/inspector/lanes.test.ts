import { describe, expect, it } from "vitest";

import { arrowOf, formatDetails, laneOf } from "./lanes.ts";

describe("arrowOf", () => {
  it("points right from the sender's lane to the receiver's, and says so in words", () => {
    expect(arrowOf({ from: "browser", to: "idp" })).toEqual({
      firstLane: 1,
      lastLane: 3,
      direction: "right",
      text: "Browser → IdP",
      inset: { left: 50 / 3, right: 50 / 3 },
    });
  });

  it("points left for an answer", () => {
    expect(arrowOf({ from: "api", to: "bff" })).toEqual({
      firstLane: 2,
      lastLane: 4,
      direction: "left",
      text: "API → BFF",
      inset: { left: 50 / 3, right: 50 / 3 },
    });
  });

  it("starts and ends in the middle of neighbouring lanes", () => {
    expect(arrowOf({ from: "bff", to: "idp" }).inset).toEqual({ left: 25, right: 25 });
  });

  it("stays in one lane for a step within one party", () => {
    expect(arrowOf({ from: "bff", to: "bff" })).toMatchObject({
      firstLane: 2,
      lastLane: 2,
      direction: "self",
      text: "BFF (within itself)",
    });
  });
});

describe("laneOf", () => {
  it("numbers the lanes Browser, BFF, IdP, API from 1, and puts an unknown party with the BFF", () => {
    expect(["browser", "bff", "idp", "api"].map(laneOf)).toEqual([1, 2, 3, 4]);
    expect(laneOf("cdn")).toBe(2);
  });
});

describe("formatDetails", () => {
  it("indents nested details as JSON", () => {
    expect(formatDetails({ id_token: { header: { alg: "RS256" } } })).toBe(
      '{\n  "id_token": {\n    "header": {\n      "alg": "RS256"\n    }\n  }\n}',
    );
  });
});

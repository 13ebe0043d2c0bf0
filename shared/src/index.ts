export * from "./contacts.ts";
export * from "./env-variables.ts";
export * from "./inspector.ts";
export * from "./local-system.ts";
export * from "./problem.ts";
export * from "./routes.ts";
export * from "./session.ts";

/**
 * Where the whole system listens on one machine: the BFF, the embedded IdP and
 * the API, each on its own loopback port. The one place those ports become
 * URLs: `pnpm start`, `pnpm dev`, the e2e suite, and the defaults of each
 * server (the IdP's redirect and back-channel URIs, the API's issuer and
 * audience, the BFF's port) all derive theirs from here, so that moving one
 * port moves every URL that names it.
 *
 * Takes the environment as an argument (no `process` here: the SPA imports
 * this package too).
 */

/** The ports when BFF_PORT, IDP_PORT and API_PORT are unset. */
export const DEFAULT_LOCAL_PORTS = { bff: 3000, idp: 4000, api: 4001 } as const;

/** The Vite dev server of `pnpm dev` (its port is fixed in web/vite.config.ts). */
export const VITE_PORT = 5173;

export interface LocalSystem {
  ports: { bff: number; idp: number; api: number };
  /** The BFF, serving the SPA: what the browser opens. */
  bff: string;
  /**
   * The embedded IdP's issuer. 127.0.0.1, not localhost: the browser keeps the
   * IdP's cookies apart from the BFF's (cookies do not isolate ports).
   */
  idp: string;
  /** The API, also its resource indicator (the `aud` of its access tokens). */
  api: string;
  /** Vite in front of the BFF, in `pnpm dev`. */
  vite: string;
}

const PORT_VARIABLES = { bff: "BFF_PORT", idp: "IDP_PORT", api: "API_PORT" } as const;

/** Derives every origin from the three ports. */
export function localSystemAt(ports: LocalSystem["ports"]): LocalSystem {
  return {
    ports: { ...ports },
    bff: `http://localhost:${ports.bff}`,
    idp: `http://127.0.0.1:${ports.idp}`,
    api: `http://localhost:${ports.api}`,
    vite: `http://localhost:${VITE_PORT}`,
  };
}

/** The system on its default ports: the servers' own defaults. */
export const DEFAULT_LOCAL_SYSTEM: LocalSystem = localSystemAt(DEFAULT_LOCAL_PORTS);

/**
 * The system on the ports BFF_PORT, IDP_PORT and API_PORT name (each unset or
 * empty: its default). Throws one error naming every bad value, and refuses
 * two parts on one port.
 *
 * @example
 * const system = localSystem(process.env); // BFF_PORT=5410 → system.bff === "http://localhost:5410"
 */
export function localSystem(env: Readonly<Record<string, string | undefined>>): LocalSystem {
  const problems: string[] = [];
  const port = (part: keyof typeof PORT_VARIABLES): number => {
    const name = PORT_VARIABLES[part];
    const text = env[name]?.trim();
    if (text === undefined || text === "") return DEFAULT_LOCAL_PORTS[part];
    const value = Number(text);
    // 0 (any free port) cannot work here: the others must know the port before it listens.
    if (!/^\d+$/.test(text) || value < 1 || value > 65535) {
      problems.push(`${name} must be a port number 1-65535 (got "${text}")`);
    }
    return value;
  };
  const ports = { bff: port("bff"), idp: port("idp"), api: port("api") };
  const taken = new Map<number, string>();
  for (const [part, value] of Object.entries(ports) as [keyof typeof PORT_VARIABLES, number][]) {
    const other = taken.get(value);
    if (other) problems.push(`${PORT_VARIABLES[part]} and ${other} are both ${value}`);
    taken.set(value, PORT_VARIABLES[part]);
  }
  if (ports.bff === VITE_PORT || ports.idp === VITE_PORT || ports.api === VITE_PORT) {
    problems.push(`port ${VITE_PORT} is the Vite dev server's`);
  }
  if (problems.length > 0) throw new Error(`Cannot place the system:\n  - ${problems.join("\n  - ")}`);
  return localSystemAt(ports);
}

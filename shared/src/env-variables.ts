/**
 * The environment variables a server reads, written once as data: its
 * `env.ts` parses the environment through a reader that only accepts listed
 * names, and `pnpm docs:env` renders the same lists as docs/configuration.md.
 * A variable the code reads cannot be missing from the reference, and the
 * defaults the reference shows are the constants the code uses.
 */

/** A default that is no single value (it depends on another variable, or on the repository's path). */
export interface DescribedDefault {
  readonly described: string;
}

export interface EnvVariable {
  readonly name: string;
  /** What it sets, in a few words. */
  readonly meaning: string;
  /**
   * What the code uses when the variable is unset or empty, referenced from the
   * constant the code itself uses. Absent: unset means none or off (`meaning` says).
   */
  readonly default?: string | number | readonly string[] | DescribedDefault;
  /** Accepted values, refusals, and what to change when not running on one laptop. */
  readonly notes?: string;
}

/** Keeps each name's literal type, so a reader can accept the listed names only. */
export function defineVariables<const List extends readonly EnvVariable[]>(list: List): List {
  const names = new Set<string>();
  for (const variable of list) {
    if (names.has(variable.name)) throw new Error(`${variable.name} is listed twice`);
    names.add(variable.name);
  }
  return list;
}

export type VariableName<List extends readonly EnvVariable[]> = List[number]["name"];

/**
 * Reads listed variables only (a name outside the list does not type-check).
 * A value is trimmed; an empty one counts as unset, as a shell's `VAR=` does
 * in practice.
 */
export function variableReader<List extends readonly EnvVariable[]>(
  _list: List,
  env: Readonly<Record<string, string | undefined>>,
): (name: VariableName<List>) => string | undefined {
  return (name) => {
    const value = env[name]?.trim();
    return value === "" ? undefined : value;
  };
}

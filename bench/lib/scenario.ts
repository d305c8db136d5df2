/** What every scenario module under bench/scenarios/ exports as `scenario`. */
export interface ScenarioContext {
  env: NodeJS.ProcessEnv;
  /** Progress lines, on stderr so stdout holds only the table and the final JSON line. */
  log(line: string): void;
  /** Registers a cleanup; run.ts runs them last-in first-out before the JSON line, also on errors and Ctrl-C. */
  defer(cleanup: () => Promise<void>): void;
  /** Aborted on Ctrl-C / SIGTERM: load loops stop sending and requests in flight are cancelled. */
  signal: AbortSignal;
}

/** The final JSON line: at least the scenario name, its figures, the baseline and the ratio. */
export interface ScenarioResult {
  scenario: string;
  baseline: Record<string, unknown>;
  ratio: number;
  [figure: string]: unknown;
}

export interface Scenario {
  name: string;
  description: string;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

/** A positive integer from the environment, bounded so a typo cannot start an unbounded run. */
export function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

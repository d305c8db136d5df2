import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Scenario, ScenarioContext } from './lib/scenario';

/**
 * `npm run bench -- <scenario>`: runs one scenario from bench/scenarios/. The scenario prints
 * its table; this prints the scenario's result as the last line, one JSON object.
 */
const scenarios = {
  deals: () => import('./scenarios/deals'),
  enroll: () => import('./scenarios/enroll'),
  import: () => import('./scenarios/import'),
  ingest: () => import('./scenarios/ingest'),
  send: () => import('./scenarios/send'),
} satisfies Record<string, () => Promise<{ scenario: Scenario }>>;

type ScenarioName = keyof typeof scenarios;
const known = Object.keys(scenarios).sort() as ScenarioName[];

function isScenarioName(name: string): name is ScenarioName {
  return Object.hasOwn(scenarios, name);
}

/** Every file in bench/scenarios/ must be listed above; a forgotten one fails loudly. */
function unregisteredScenarioFiles(): string[] {
  const dir = path.join(__dirname, 'scenarios');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => file.slice(0, -'.ts'.length))
    .filter((name) => !isScenarioName(name));
}

const cleanups: Array<() => Promise<void>> = [];
let cleaning: Promise<void> | undefined;
/** Runs the cleanups once; a second caller (Ctrl-C during the normal end) waits for the same run. */
function runCleanups(): Promise<void> {
  cleaning ??= (async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => process.stderr.write(`bench: cleanup failed: ${error instanceof Error ? error.message : String(error)}\n`));
    }
  })();
  return cleaning;
}

async function main(): Promise<number> {
  const name = process.argv[2];
  const unregistered = unregisteredScenarioFiles();
  if (unregistered.length) {
    process.stderr.write(`bench/scenarios/ has ${unregistered.map((file) => `${file}.ts`).join(', ')} but bench/run.ts does not list it; add it to \`scenarios\`.\n`);
    return 2;
  }
  if (!name || name === '--help' || name === '-h') {
    process.stderr.write(`usage: npm run bench -- <scenario>\nscenarios: ${known.join(', ')}\n`);
    return 2;
  }
  if (!isScenarioName(name)) {
    process.stderr.write(`unknown scenario ${JSON.stringify(name)}; known scenarios: ${known.join(', ')}\n`);
    return 2;
  }

  const { scenario } = await scenarios[name]();
  const abort = new AbortController();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(130); // a second Ctrl-C does not wait for the cleanup
    interrupted = true;
    process.stderr.write(`bench: ${signal}, stopping\n`);
    abort.abort(new Error(`interrupted by ${signal}`));
    // The load loops stop at once; give the cancelled requests a moment to settle.
    void new Promise((resolve) => setTimeout(resolve, 500))
      .then(runCleanups)
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const ctx: ScenarioContext = {
    env: process.env,
    log: (line) => process.stderr.write(`${line}\n`),
    defer: (cleanup) => {
      cleanups.push(cleanup);
    },
    signal: abort.signal,
  };
  process.stderr.write(`bench: scenario ${scenario.name}: ${scenario.description}\n`);
  try {
    const result = await scenario.run(ctx);
    await runCleanups();
    // The last line of the output, for whatever collects the figures.
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (error) {
    await runCleanups();
    if (abort.signal.aborted) return 130;
    process.stderr.write(`bench: scenario ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

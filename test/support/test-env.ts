/** Names of the environment variables global-setup hands to every test file. */
export const testEnvKeys = {
  temporalAddress: 'TOUCHPOINT_TEST_TEMPORAL_ADDRESS',
  templateDatabase: 'TOUCHPOINT_TEST_TEMPLATE_DB',
  adminDatabaseUrl: 'TOUCHPOINT_TEST_ADMIN_DB_URL',
  workflowBundle: 'TOUCHPOINT_TEST_WORKFLOW_BUNDLE',
} as const;

export function requireTestEnv(key: keyof typeof testEnvKeys): string {
  const value = process.env[testEnvKeys[key]];
  if (!value) throw new Error(`${testEnvKeys[key]} is not set: run tests through jest so global-setup runs`);
  return value;
}

/** PostgreSQL server the tests create their databases on (trust auth on these machines). */
export const defaultAdminDatabaseUrl = 'postgresql://postgres@127.0.0.1:5432/postgres';

export function databaseUrlFor(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

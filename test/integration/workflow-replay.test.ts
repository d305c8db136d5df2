import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { requireTestEnv } from '../support/test-env';

/**
 * Every recorded history in test/fixtures/histories must replay against today's workflow
 * code: a change that would break running workflows fails here instead of in production.
 * Record new ones with RECORD_HISTORIES=1 (see README, "Workflow versioning").
 */
const historiesDir = path.resolve(__dirname, '..', 'fixtures', 'histories');

describe('recorded workflow histories', () => {
  it('all replay deterministically against the current workflow code', async () => {
    const files = (await readdir(historiesDir)).filter((file) => file.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const history = temporal.api.history.v1.History.fromObject(JSON.parse(await readFile(path.join(historiesDir, file), 'utf8')));
      await expect(
        Worker.runReplayHistory({ workflowBundle: { codePath: requireTestEnv('workflowBundle') } }, history, file),
      ).resolves.toBeUndefined();
    }
  });
});

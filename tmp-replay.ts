import { readFile } from 'node:fs/promises';
import { temporal } from '@temporalio/proto';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
(async () => {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } });
  const history = temporal.api.history.v1.History.fromObject(JSON.parse(await readFile('test/fixtures/histories/contact-import-continue-as-new.json', 'utf8')));
  await Worker.runReplayHistory({ workflowBundle: { code } }, history, 'contact-import');
  console.log('replayed ok');
})().catch((e) => { console.error('FAILED', e); process.exit(1); });

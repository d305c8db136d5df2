import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { temporal } from '@temporalio/proto';

/**
 * protobufjs object form for recorded histories. The SDK's historyToJSON would be the natural
 * choice, but with npm's hoisting it loads a second protobufjs copy and fails its instanceof
 * check ("type must be a Type"); History.toObject/fromObject use the proto package's own copy.
 */
export const historyJsonOptions = { longs: String, enums: String, bytes: String, defaults: false } as const;

/** A history in the replay fixtures folder: only with RECORD_HISTORIES=1, never as a side effect of a normal run. */
export async function recordHistory(handle: { fetchHistory(): Promise<temporal.api.history.v1.IHistory> }, file: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = temporal.api.history.v1.History.create(await handle.fetchHistory());
  const dir = path.resolve(__dirname, '..', 'fixtures', 'histories');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, file), JSON.stringify(temporal.api.history.v1.History.toObject(history, historyJsonOptions), null, 1));
}

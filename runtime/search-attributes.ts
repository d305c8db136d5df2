import type { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import type { Logger } from 'pino';
import { customSearchAttributes } from '../workflows/search-attributes';

const indexedValueTypes = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
} as const;

/**
 * Workflows upsert custom search attributes, and a workflow task that upserts an attribute
 * the namespace does not know fails. The worker registers them at start; where it may not
 * (Temporal Cloud namespaces are managed with tcld or the Cloud UI) it says what to run.
 */
export async function ensureSearchAttributes(connection: NativeConnection, namespace: string, logger: Logger): Promise<void> {
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = Object.entries(customSearchAttributes).filter(([name]) => !(name in customAttributes));
    if (missing.length === 0) return;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, indexedValueTypes[type]])),
    });
    logger.info({ namespace, added: missing.map(([name]) => name) }, 'registered custom search attributes');
  } catch (error) {
    const commands = Object.entries(customSearchAttributes).map(([name, type]) => `temporal operator search-attribute create --namespace ${namespace} --name ${name} --type ${type}`);
    logger.warn({ err: error, commands }, 'could not register custom search attributes; register them before starting workflows');
  }
}

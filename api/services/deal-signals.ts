import type { DealStageChanged, DealTouched } from '../../workflows/deal-messages';
import type { WorkflowGateway } from '../workflow-gateway';

/** A stage change committed to the database, to be told to the deal's workflow. */
export interface RecordedStageChange {
  dealId: string;
  /** Open after the change: its workflow is started if missing; a closed deal's is only told. */
  dealIsOpen: boolean;
  change: DealStageChanged;
}

export interface RecordedTouch {
  dealId: string;
  touch: DealTouched;
}

/** Signals in flight at once, so a remap of a big stage does not open thousands of calls. */
const signalBatch = 20;

/**
 * After the commit, each deal's workflow hears of its change. The change id is the workflow's
 * exactly-once key, so a signal that is repeated (a retried request) fires nothing twice.
 */
export async function announceStageChanges(gateway: WorkflowGateway, changes: readonly RecordedStageChange[]): Promise<void> {
  await inBatches(changes, (recorded) => gateway.signalDealStageChanged(recorded.dealId, recorded.dealIsOpen, recorded.change));
}

export async function announceTouches(gateway: WorkflowGateway, touches: readonly RecordedTouch[]): Promise<void> {
  await inBatches(touches, (recorded) => gateway.signalDealTouched(recorded.dealId, recorded.touch));
}

async function inBatches<T>(items: readonly T[], send: (item: T) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += signalBatch) await Promise.all(items.slice(start, start + signalBatch).map(send));
}

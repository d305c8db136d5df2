import type { LifecycleStage } from './schemas/common';
import type { TriggerDefinition } from './schemas/trigger';

/** A recorded stage change, as the deal workflow received it. */
export interface StageMove {
  fromStageId: string | null;
  toStageId: string;
}

/** What the filters look at, read when the change is handled. */
export interface DealMatchFacts {
  pipelineId: string;
  /** Null when the deal has no amount: it then matches no amount range. */
  amount: number | null;
  ownerId: string;
  /** Null when the deal has no contact: it then matches no lifecycle filter. */
  contactLifecycleStage: LifecycleStage | null;
}

/** Does this change fire the trigger: the right stage edge, and every filter given matches. */
export function triggerFires(definition: Pick<TriggerDefinition, 'event' | 'stageId' | 'filters'>, move: StageMove, deal: DealMatchFacts): boolean {
  if (move.fromStageId === move.toStageId) return false;
  const edge = definition.event === 'enter' ? move.toStageId === definition.stageId : move.fromStageId === definition.stageId;
  return edge && filtersMatch(definition.filters, deal);
}

export function filtersMatch(filters: TriggerDefinition['filters'], deal: DealMatchFacts): boolean {
  if (filters.pipelineId && filters.pipelineId !== deal.pipelineId) return false;
  if (filters.amount) {
    if (deal.amount === null) return false;
    if (filters.amount.min !== undefined && deal.amount < filters.amount.min) return false;
    if (filters.amount.max !== undefined && deal.amount > filters.amount.max) return false;
  }
  if (filters.ownerIds && !filters.ownerIds.includes(deal.ownerId)) return false;
  if (filters.contactLifecycleStages) {
    if (deal.contactLifecycleStage === null || !filters.contactLifecycleStages.includes(deal.contactLifecycleStage)) return false;
  }
  return true;
}

/**
 * Where a task came from. Every task stores `sourceType`, a readable `sourceRef` and, for
 * automation, a unique `sourceKey`: the business key that makes a retried step find the task
 * it already created. The API derives a structured link from them, so whatever creates tasks
 * stores the pair in this format (workflows/contact-lifecycle.ts, activities/trigger-actions.ts
 * `triggerActionKey`, activities/sequence-run.ts `createSequenceTask`, the overdue digest):
 *
 * | sourceType | sourceRef                                                  | sourceKey                                          |
 * |------------|------------------------------------------------------------|----------------------------------------------------|
 * | manual     | `user:{userId}`, or `api-key:{apiKeyId}` for a service key | none                                               |
 * | workflow   | the workflow id, e.g. `contact:{contactId}`                | the step, e.g. `contact:{id}:first-follow-up`      |
 * | trigger    | `trigger:{triggerId}`                                      | `trigger:{triggerId}:{stageChangeId}:{actionIndex}` |
 * | sequence   | the enrollment workflow id `enrollment:{sequenceId}:{contactId}` | `enrollment:{enrollmentId}:{stepKey}:{visit}` |
 */
export const taskSourceTypes = ['manual', 'workflow', 'trigger', 'sequence'] as const;
export type TaskSourceType = (typeof taskSourceTypes)[number];

export type TaskSourceLink =
  | { kind: 'manual'; userId: string | null; apiKeyId: string | null }
  | { kind: 'workflow'; workflowId: string }
  | { kind: 'trigger'; triggerId: string; stageChangeId: string | null; actionIndex: number | null }
  | { kind: 'sequence'; sequenceId: string; workflowId: string; enrollmentId: string | null; stepKey: string | null };

export interface TaskSource {
  sourceType: TaskSourceType;
  sourceRef: string;
  sourceKey: string | null;
}

export function manualTaskSource(creator: { userId: string | null; apiKeyId: string }): TaskSource {
  return { sourceType: 'manual', sourceRef: creator.userId ? `user:${creator.userId}` : `api-key:${creator.apiKeyId}`, sourceKey: null };
}

const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const patterns = {
  manual: new RegExp(`^(user|api-key):(${uuid})$`),
  triggerRef: new RegExp(`^trigger:(${uuid})$`),
  triggerKey: new RegExp(`^trigger:(${uuid}):(${uuid}):(\\d{1,6})$`),
  sequenceRef: new RegExp(`^enrollment:(${uuid}):(${uuid})$`),
  sequenceKey: new RegExp(`^enrollment:(${uuid}):([a-z0-9][a-z0-9_-]{0,63}):\\d{1,9}$`),
};

/** The structured link, or null when the stored ref does not follow the format above. */
export function taskSourceLink(sourceType: string, sourceRef: string | null, sourceKey: string | null): TaskSourceLink | null {
  if (!sourceRef) return null;
  switch (sourceType) {
    case 'manual': {
      const match = patterns.manual.exec(sourceRef);
      if (!match) return null;
      return { kind: 'manual', userId: match[1] === 'user' ? match[2]! : null, apiKeyId: match[1] === 'api-key' ? match[2]! : null };
    }
    case 'workflow':
      return { kind: 'workflow', workflowId: sourceRef };
    case 'trigger': {
      const ref = patterns.triggerRef.exec(sourceRef);
      if (!ref) return null;
      const key = sourceKey ? patterns.triggerKey.exec(sourceKey) : null;
      const sameTrigger = key?.[1] === ref[1];
      return { kind: 'trigger', triggerId: ref[1]!, stageChangeId: sameTrigger ? key![2]! : null, actionIndex: sameTrigger ? Number(key![3]) : null };
    }
    case 'sequence': {
      const ref = patterns.sequenceRef.exec(sourceRef);
      if (!ref) return null;
      const key = sourceKey ? patterns.sequenceKey.exec(sourceKey) : null;
      return { kind: 'sequence', sequenceId: ref[1]!, workflowId: sourceRef, enrollmentId: key?.[1] ?? null, stepKey: key?.[2] ?? null };
    }
    default:
      return null;
  }
}

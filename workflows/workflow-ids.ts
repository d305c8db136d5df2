/** Deterministic workflow ids: one workflow per entity, readable in the Temporal Web UI. */
export const contactWorkflowId = (contactId: string): string => `contact:${contactId}`;

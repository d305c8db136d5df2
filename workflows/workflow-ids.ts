/** Deterministic workflow ids: one workflow per entity, readable in the Temporal Web UI. */
export const contactWorkflowId = (contactId: string): string => `contact:${contactId}`;
/** One per (sequence, contact): a contact cannot run the same sequence twice at once. */
export const enrollmentWorkflowId = (sequenceId: string, contactId: string): string => `enrollment:${sequenceId}:${contactId}`;
export const bulkEnrollmentWorkflowId = (jobId: string): string => `bulk-enroll:${jobId}`;
export const sequenceMigrationWorkflowId = (migrationId: string): string => `migrate-enrollments:${migrationId}`;
export const dealWorkflowId = (dealId: string): string => `deal:${dealId}`;
export const importWorkflowId = (importId: string): string => `import:${importId}`;
export const webhookDeliveryWorkflowId = (deliveryId: string): string => `webhook-delivery:${deliveryId}`;

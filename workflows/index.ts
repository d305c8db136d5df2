// The workflow bundle's entry point: every workflow the worker runs is exported here.
export { contactLifecycle } from './contact-lifecycle';
export { bulkEnrollment } from './bulk-enrollment';
export { sequenceEnrollment } from './sequence-enrollment';
export { sequenceMigration } from './sequence-migration';
export { duplicateAudit } from './duplicate-audit';
export { overdueDigest } from './overdue-digest';
export { dealLifecycle } from './deal-lifecycle';
export { contactImport } from './contact-import';
export { importUploadCleanup } from './import-upload-cleanup';
export { webhookRedelivery } from './webhook-redelivery';
export { dataRetention } from './data-retention';

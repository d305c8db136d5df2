/**
 * The lifecycle stages, in a module with no imports: workflow code needs them, and importing
 * them from the zod schemas would pull zod, libphonenumber-js and luxon into the workflow
 * bundle, which every cached workflow pays for in worker memory (bench `deals`).
 */
export const lifecycleStages = ['lead', 'mql', 'sql', 'customer', 'at_risk', 'churned'] as const;
export type LifecycleStage = (typeof lifecycleStages)[number];

import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes registered on the namespace (runtime/search-attributes.ts registers them at worker start; the dev server at launch). */
export const ContactIdAttribute = defineSearchAttributeKey('ContactId', SearchAttributeType.KEYWORD);
export const LifecycleStageAttribute = defineSearchAttributeKey('LifecycleStage', SearchAttributeType.KEYWORD);

/** Name and type of every custom search attribute, for registering them on a namespace. */
export const customSearchAttributes = {
  ContactId: 'Keyword',
  LifecycleStage: 'Keyword',
} as const;

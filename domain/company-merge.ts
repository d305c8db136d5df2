/**
 * Survivorship for companies, decided from the before images alone so the rule is testable
 * without a database and the audit log can say where each value came from.
 * api/services/companies.ts applies it.
 *
 * The survivor keeps its name and every field it has a value for. A field it has empty takes
 * the value of the first merged company, in the order of the request's `mergeIds`, that has
 * one. Unlike contacts, no "newest wins": a company record is curated by hand, and the caller
 * chose which one survives.
 */

/** Company fields that may be empty and so may be filled from a merged company. */
export const fillableCompanyFields = ['domain', 'ownerId'] as const;
type FillableField = (typeof fillableCompanyFields)[number];

export type CompanyMergeImage = { id: string } & Record<FillableField, string | null>;

export interface CompanyMergeDecision {
  /** The company the value came from. */
  from: string;
  /** kept: the survivor's own value; filled: taken from a merged company. */
  rule: 'kept' | 'filled';
}

export interface MergedCompany extends Record<FillableField, string | null> {
  /** Per field that has a value after the merge; fields empty on every company are left out. */
  decisions: Partial<Record<FillableField, CompanyMergeDecision>>;
}

export function decideCompanyMerge(survivor: CompanyMergeImage, merged: readonly CompanyMergeImage[]): MergedCompany {
  const result: MergedCompany = { domain: survivor.domain, ownerId: survivor.ownerId, decisions: {} };
  for (const field of fillableCompanyFields) {
    if (survivor[field] !== null) {
      result.decisions[field] = { from: survivor.id, rule: 'kept' };
      continue;
    }
    const donor = merged.find((company) => company[field] !== null);
    if (donor) {
      result[field] = donor[field];
      result.decisions[field] = { from: donor.id, rule: 'filled' };
    }
  }
  return result;
}

import { z } from 'zod';
import { amountPattern, amountProblem, isCurrencyCode, maxIntegerDigits } from '../money';
import { CursorQuerySchema, IdSchema } from './common';

export const dealStatuses = ['open', 'won', 'lost'] as const;

export const AmountSchema = z
  .string({ error: 'must be a decimal string such as "1250.00", not a number (amounts never pass through binary floats)' })
  .regex(amountPattern, `must be a decimal string such as "1250.00": up to ${maxIntegerDigits} digits, a point and up to 2 decimals`)
  .meta({ example: '1250.00', description: 'A decimal string, never a JSON number; at most the currency\'s decimals (none for JPY).' });

export const CurrencySchema = z
  .string()
  .trim()
  .toUpperCase()
  .refine(isCurrencyCode, 'must be an ISO 4217 currency code such as EUR')
  .meta({ example: 'EUR' });

const DateSchema = z.iso.date({ error: 'must be a date as YYYY-MM-DD' }).meta({ example: '2026-12-31' });
const DealNameSchema = z.string().trim().min(1, 'must not be blank').max(200);
const LostReasonSchema = z.string().trim().min(1, 'must not be blank').max(500);

export const DealCreateSchema = z
  .strictObject({
    name: DealNameSchema,
    amount: AmountSchema.nullable().optional(),
    currency: CurrencySchema.default('USD'),
    pipelineId: IdSchema,
    stageId: IdSchema.optional().meta({ description: 'A live stage of the pipeline; by default its first stage.' }),
    ownerId: IdSchema.optional().meta({ description: 'By default the user the API key acts for. Reps own the deals they create.' }),
    contactId: IdSchema.optional(),
    companyId: IdSchema.optional(),
    expectedCloseDate: DateSchema.optional(),
    lostReason: LostReasonSchema.optional().meta({ description: 'Only when the deal is created in the lost stage.' }),
  })
  .superRefine((deal, ctx) => {
    const problem = deal.amount ? amountProblem(deal.amount, deal.currency) : null;
    if (problem) ctx.addIssue({ code: 'custom', path: ['amount'], message: problem });
  })
  .meta({ id: 'DealCreate' });
export type DealCreate = z.infer<typeof DealCreateSchema>;

export const DealUpdateSchema = z
  .strictObject({
    name: DealNameSchema.optional(),
    amount: AmountSchema.nullable().optional(),
    currency: CurrencySchema.optional(),
    stageId: IdSchema.optional().meta({
      description: 'Moves the deal: records who moved it and when, and tells the deal workflow. A won or lost stage closes the deal; an open stage reopens a closed one. Only stages of the deal\'s own pipeline.',
    }),
    ownerId: IdSchema.optional(),
    contactId: IdSchema.nullable().optional(),
    companyId: IdSchema.nullable().optional(),
    expectedCloseDate: DateSchema.nullable().optional(),
    lostReason: LostReasonSchema.nullable().optional().meta({ description: 'Why a lost deal was lost; only for a deal in (or moving to) the lost stage.' }),
  })
  .superRefine((patch, ctx) => {
    if (Object.keys(patch).length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'the body must change at least one field' });
  })
  .meta({ id: 'DealUpdate' });
export type DealUpdate = z.infer<typeof DealUpdateSchema>;

const BooleanQuerySchema = z.enum(['true', 'false']).transform((value) => value === 'true');

export const DealListQuerySchema = CursorQuerySchema.extend({
  pipelineId: IdSchema.optional(),
  stageId: IdSchema.optional(),
  ownerId: z.union([IdSchema, z.literal('me')]).optional().meta({ description: '`me` is the caller. Reps always see only their own deals, managers their own and their reports\'.' }),
  status: z.enum(dealStatuses).optional(),
  rotting: BooleanQuerySchema.optional().meta({ description: '`true`: only deals idle past the escalation ladder.' }),
  contactId: IdSchema.optional(),
  companyId: IdSchema.optional(),
}).strict();
export type DealListQuery = z.infer<typeof DealListQuerySchema>;

export const DealSchema = z
  .object({
    id: IdSchema,
    name: z.string(),
    amount: z.string().nullable().meta({ example: '1250.00', description: 'Decimal string in the currency\'s decimals.' }),
    currency: z.string(),
    pipelineId: IdSchema,
    stage: z.object({ id: IdSchema, name: z.string(), probability: z.number().int(), isWon: z.boolean(), isLost: z.boolean() }),
    status: z.enum(dealStatuses),
    ownerId: IdSchema,
    contactId: IdSchema.nullable(),
    companyId: IdSchema.nullable(),
    expectedCloseDate: z.string().nullable(),
    stageEnteredAt: z.string(),
    lastTouchAt: z.string(),
    rotting: z.boolean(),
    closedAt: z.string().nullable(),
    lostReason: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Deal' });
export type DealView = z.infer<typeof DealSchema>;

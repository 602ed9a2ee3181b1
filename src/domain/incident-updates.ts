// The arguments of the incident workflow's updates, as zod schemas for the callers that validate input (API
// routes, Slack) and as inferred types for workflows/messages.ts. The workflow's own validators still check
// what depends on its state; these say what a well-formed argument is.
import { z } from 'zod';
import { ID_PATTERN, MAX_EVENT_BYTES, MAX_NOTE_LENGTH } from './limits';
import { ActorSchema } from './roles';
import { SeveritySchema } from './severity';

const ReasonSchema = z.string().trim().min(1).max(500);
const NoteTextSchema = z.string().trim().min(1).max(MAX_NOTE_LENGTH);
const StepIdSchema = z.string().regex(ID_PATTERN, 'a step id: lowercase letters, digits and dashes');

export const AcknowledgeArgsSchema = z.object({ actor: ActorSchema }).strict();
export const DecideArgsSchema = z.object({ actor: ActorSchema, stepId: StepIdSchema, option: z.string().min(1).max(63) }).strict();
export const EscalateArgsSchema = z.object({ actor: ActorSchema, reason: ReasonSchema.optional() }).strict();
export const ResolveArgsSchema = z.object({ actor: ActorSchema, summary: NoteTextSchema.optional() }).strict();
export const AddNoteArgsSchema = z.object({ actor: ActorSchema, text: NoteTextSchema }).strict();
export const ChangeSeverityArgsSchema = z
  .object({ actor: ActorSchema, severity: SeveritySchema, reason: ReasonSchema.optional() })
  .strict();
export const CompleteTaskArgsSchema = z.object({ actor: ActorSchema, stepId: StepIdSchema, note: NoteTextSchema.optional() }).strict();
export const CompleteReviewArgsSchema = z.object({ actor: ActorSchema, summary: NoteTextSchema.optional() }).strict();
export const PostEventArgsSchema = z
  .object({
    actor: ActorSchema,
    name: z.string().regex(ID_PATTERN, 'the event name must be lowercase letters, digits and dashes'),
    data: z
      .record(z.string(), z.unknown())
      .refine((data) => JSON.stringify(data).length <= MAX_EVENT_BYTES, `event data is larger than ${MAX_EVENT_BYTES} bytes`),
  })
  .strict();

export type AcknowledgeArgs = z.infer<typeof AcknowledgeArgsSchema>;
export type DecideArgs = z.infer<typeof DecideArgsSchema>;
export type EscalateArgs = z.infer<typeof EscalateArgsSchema>;
export type ResolveArgs = z.infer<typeof ResolveArgsSchema>;
export type AddNoteArgs = z.infer<typeof AddNoteArgsSchema>;
export type ChangeSeverityArgs = z.infer<typeof ChangeSeverityArgsSchema>;
export type CompleteTaskArgs = z.infer<typeof CompleteTaskArgsSchema>;
export type CompleteReviewArgs = z.infer<typeof CompleteReviewArgsSchema>;
export type PostEventArgs = z.infer<typeof PostEventArgsSchema>;

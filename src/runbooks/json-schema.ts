import { z } from 'zod';
import { RunbookSchema } from '../domain/runbook';

/**
 * The runbook format as JSON Schema, generated from the zod schema so the two never drift. Editors with a YAML
 * language server validate and complete runbooks with it (`# yaml-language-server: $schema=…`).
 */
export function runbookJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(RunbookSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://fireline.dev/schemas/runbook.json',
    title: 'Fireline runbook',
  };
}

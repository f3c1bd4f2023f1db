import type { z } from 'zod';

/** One validation failure in an `INVALID_REQUEST` problem: where (`body.grant.signature`) and what. */
export interface ValidationError {
  path: string;
  message: string;
}

/** Most failures listed in one problem; a hostile body cannot make the answer large. */
const MAX_ERRORS = 20;
const MAX_MESSAGE_LENGTH = 200;

/**
 * Turns zod issues into `{ path, message }` entries that never echo submitted values (they may be
 * secrets): unrecognized keys are counted, not named, and a message that happens to contain the
 * submitted value at its path (a custom message built from the input) is replaced by a generic one.
 */
export function validationErrors(location: 'params' | 'query' | 'body', error: z.ZodError, input: unknown): ValidationError[] {
  return error.issues.slice(0, MAX_ERRORS).map((issue) => {
    const path = [location, ...issue.path.map(String)].join('.');
    return { path, message: safeMessage(issue, input) };
  });
}

function safeMessage(issue: z.core.$ZodIssue, input: unknown): string {
  if (issue.code === 'unrecognized_keys') return issue.keys.length === 1 ? 'Unrecognized key' : `${issue.keys.length} unrecognized keys`;
  const message = issue.message.slice(0, MAX_MESSAGE_LENGTH);
  const value = valueAt(input, issue.path);
  if ((typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') && String(value).length >= 3 && message.includes(String(value))) {
    return `Invalid value (${issue.code})`;
  }
  return message;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

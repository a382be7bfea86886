import { z } from 'zod';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { SA_ACCOUNT } from '../workflows/definitions';

/**
 * Which sessions a fleet command (or a listing) reaches: the running `accountSession` workflows in
 * Temporal visibility, narrowed by an operator's search-attribute filter such as `MaoBroker = 'ig'`.
 *
 * Visibility is eventually consistent: a session started a moment ago (about a second on the dev
 * server, longer under load on Elasticsearch) may not be listed yet, and one that just ended may
 * still be. A fleet command reaches the sessions visible when it runs; run it again to catch late ones
 * (it is idempotent: a session already in the target state reports `unchanged`).
 */
export const RUNNING_SESSIONS_QUERY = "WorkflowType = 'accountSession' AND ExecutionStatus = 'Running'";

const MAX_FILTER_LENGTH = 1000;

/**
 * Why a filter cannot be put inside `AND ( ... )` safely, or null. The filter must stay a sub-expression:
 * quotes closed and parentheses balanced (so `x') OR (y` cannot widen the query beyond running
 * sessions), and no clause that only ends a whole query (ORDER BY, GROUP BY, LIMIT). The server still
 * parses it: a filter that passes here may be refused there (FleetQueryError).
 */
export function filterProblem(filter: string): string | null {
  if (/[\u0000-\u001f\u007f]/.test(filter)) return 'must be one line without control characters';
  let quote: string | null = null;
  let depth = 0;
  let outside = '';
  for (let i = 0; i < filter.length; i++) {
    const c = filter[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      quote = c;
      outside += ' ';
      continue;
    }
    if (c === '(') depth++;
    if (c === ')' && --depth < 0) return 'has a ")" without its "("';
    outside += c;
  }
  if (quote) return `has an unclosed ${quote} quote`;
  if (depth > 0) return 'has a "(" without its ")"';
  const clause = /\b(order\s+by|group\s+by|limit)\b/i.exec(outside);
  if (clause) return `cannot contain ${clause[1].toUpperCase().replace(/\s+/, ' ')} (it is combined with AND into a larger query)`;
  return null;
}

/** A search-attribute filter from an operator (CLI --query, gateway body `query`). */
export const VisibilityFilterSchema = z
  .string()
  .trim()
  .min(1, 'query must not be empty (leave it out to reach every running session)')
  .max(MAX_FILTER_LENGTH, `query must be at most ${MAX_FILTER_LENGTH} characters`)
  .superRefine((filter, ctx) => {
    const problem = filterProblem(filter);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `query ${problem}` });
  });

/** The visibility query of the running sessions matching `filter` (already validated), or all of them. */
export function runningSessionsQuery(filter?: string): string {
  return filter ? `${RUNNING_SESSIONS_QUERY} AND (${filter})` : RUNNING_SESSIONS_QUERY;
}

/** The account of a listed session: its MaoAccount search attribute, else from the workflow id `session-<account>`. */
export function accountOf(wf: Pick<WorkflowExecutionInfo, 'workflowId' | 'typedSearchAttributes'>): string {
  return wf.typedSearchAttributes.get(SA_ACCOUNT) ?? wf.workflowId.replace(/^session-/, '');
}

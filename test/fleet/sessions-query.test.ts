/** The operator's search-attribute filter: what may be AND-ed into the running-sessions query, and what is refused before Temporal sees it. */
import { RUNNING_SESSIONS_QUERY, VisibilityFilterSchema, filterProblem, runningSessionsQuery } from '../../fleet/sessions-query';

test.each([
  "MaoBroker = 'ig'",
  'MaoBroker="ig"',
  "MaoAccount IN ('a1', 'a2') AND (MaoStatus = 'running' OR MaoTradingState != 'halted')",
  "MaoAccount = 'it''s'", // SQL-style doubled quote: two adjacent strings, still closed
  "MaoAccount = 'paren ) inside a string'",
])('accepted: %s', (filter) => {
  expect(filterProblem(filter)).toBeNull();
  expect(VisibilityFilterSchema.parse(`  ${filter} `)).toBe(filter);
});

test.each([
  ["MaoBroker = 'ig') OR (WorkflowType = 'other'", 'has a ")" without its "("'],
  ["(MaoBroker = 'ig'", 'has a "(" without its ")"'],
  ["MaoBroker = 'ig", "has an unclosed ' quote"],
  ['MaoBroker = "ig', 'has an unclosed " quote'],
  ["MaoBroker = 'ig' ORDER BY StartTime", 'cannot contain ORDER BY'],
  ["MaoBroker = 'ig' limit 5", 'cannot contain LIMIT'],
  ["MaoBroker = 'ig'\nOR 1=1", 'must be one line'],
])('refused: %s', (filter, problem) => {
  expect(filterProblem(filter)).toContain(problem);
  const r = VisibilityFilterSchema.safeParse(filter);
  expect(r.success).toBe(false);
  expect(r.error?.issues[0].message).toContain(`query ${problem}`);
});

test('empty and overlong filters are refused naming the query', () => {
  expect(VisibilityFilterSchema.safeParse('   ').error?.issues[0].message).toMatch(/^query must not be empty/);
  expect(VisibilityFilterSchema.safeParse(`MaoAccount = '${'a'.repeat(1000)}'`).error?.issues[0].message).toMatch(/^query must be at most 1000/);
});

test('the filter is AND-ed in parentheses with the running-sessions query; no filter means every running session', () => {
  expect(runningSessionsQuery()).toBe(RUNNING_SESSIONS_QUERY);
  expect(runningSessionsQuery("MaoBroker = 'ig' OR MaoBroker = 'paper'")).toBe(
    `WorkflowType = 'accountSession' AND ExecutionStatus = 'Running' AND (MaoBroker = 'ig' OR MaoBroker = 'paper')`,
  );
});

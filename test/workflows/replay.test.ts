/**
 * Replays saved AccountSession histories with the current workflow code: a change that running sessions
 * could not replay (a non-determinism error) fails here before it reaches them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { WORKFLOW_BUNDLE } from '../support/env';

const DIR = path.join(__dirname, '..', 'fixtures', 'histories');
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json'));

test('there are saved histories to replay', () => {
  expect(files.length).toBeGreaterThan(0);
});

test.each(files)('%s replays without non-determinism', async (file) => {
  const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')));
  // Each recording covers many handlers: orders, stops, pause/resume, setParams, closeAll (v1); refusals,
  // trading states, timers, brackets, trailing stops, working orders (risk).
  const kinds = new Set((history.events ?? []).map((e) => e.eventType));
  expect(history.events!.length).toBeGreaterThan(150);
  expect(kinds.size).toBeGreaterThan(8);
  await Worker.runReplayHistory({ workflowBundle: { codePath: WORKFLOW_BUNDLE } }, history, `replay-${file}`);
});

/**
 * Prints the functions with the most self time in a V8 CPU profile (`node --cpu-prof`), so a profile can
 * be read without DevTools:
 *   node --import tsx bench/cpu-profile-top.ts .run/prof/CPU.*.cpuprofile [--top 20] [--lines]
 * `--lines` ranks source lines instead of functions (V8's per-line ticks; line numbers of the profiled
 * file, so profile an esbuild bundle: tsx's output maps every line to 2).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

type Node = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  positionTicks?: { line: number; ticks: number }[];
};
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[] };

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '20' }, lines: { type: 'boolean', default: false } } });
const place = (n: Node, line: number) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${line}`;

for (const file of positionals) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const micros = new Map<number, number>();
  p.samples.forEach((id, i) => micros.set(id, (micros.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const self = new Map<string, number>();
  const add = (key: string, us: number) => self.set(key, (self.get(key) ?? 0) + us);
  for (const n of p.nodes) {
    const us = micros.get(n.id) ?? 0;
    const ticks = n.positionTicks ?? [];
    const hits = ticks.reduce((s, t) => s + t.ticks, 0);
    // A node's self time split over its lines in proportion to their ticks.
    if (values.lines && hits > 0) for (const t of ticks) add(place(n, t.line), (us * t.ticks) / hits);
    else add(place(n, n.callFrame.lineNumber + 1), us);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  process.stdout.write(`${file}: ${(total / 1000).toFixed(0)} ms sampled\n`);
  for (const [key, us] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
    process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(6)} %  ${key}\n`);
  }
}

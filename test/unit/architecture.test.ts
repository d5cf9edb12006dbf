/**
 * docs/architecture.md lists the steps of an attempt twice, in its flowchart and in its table; both
 * are held to the list `steps()` in src/client.ts really builds, so the doc cannot drift from the code.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { steps } from '../../src/client.js';
import { clientContext } from '../../src/client-context.js';
import { resolveOptions } from '../../src/options.js';

const doc = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
const client = readFileSync(new URL('../../src/client.ts', import.meta.url), 'utf8');

/** The flowchart's "each attempt" subgraph, first word of each node label, in the order the arrows run. */
function flowchartOrder(): string[] {
  const subgraph = /subgraph attempt[^\n]*\n([\s\S]*?)\n\s*end\n/.exec(doc)?.[1];
  expect(subgraph, 'docs/architecture.md has a "subgraph attempt" in its flowchart').toBeDefined();
  const ids: string[] = [];
  const labels = new Map<string, string>();
  for (const line of subgraph!.split('\n')) {
    const edge = /^\s*(\w+)(?:\[[^\]]*\])?\s*-->\s*(\w+)(?:\["([^"]*)"\])?/.exec(line);
    if (!edge) continue;
    const [, from, to, label] = edge;
    if (ids.length === 0) ids.push(from!);
    expect(ids.at(-1), `the flowchart's attempt arrows form one chain (at ${line.trim()})`).toBe(
      from,
    );
    ids.push(to!);
    if (label) labels.set(to!, /^\w+/.exec(label)![0]);
  }
  // The chain enters from `retry` (drawn outside the subgraph) and its last node is `settle`.
  const retryId = /(\w+)\["retry<br\/>/.exec(doc)?.[1];
  return ids.map((id) => (id === retryId ? 'retry' : (labels.get(id) ?? id)));
}

/** The table under "What each step does", first column, top to bottom. */
function tableOrder(): string[] {
  const section = doc.split('What each step does')[1]?.split('\n\n')[1];
  expect(section, 'docs/architecture.md has the "What each step does" table').toBeDefined();
  return [...section!.matchAll(/^\| `(\w+)`/gm)].map((m) => m[1]!);
}

/** Every step a client can have: both optional steps switched on. */
function builtOrder(): string[] {
  const settings = resolveOptions({
    apiKey: 'ck_test_architecture',
    rateLimit: { perSecond: 10 },
    circuitBreaker: { failureThreshold: 5, openMs: 1_000 },
  });
  return steps(settings, clientContext(settings)).map((step) => step.name);
}

describe('docs/architecture.md against steps() in src/client.ts', () => {
  it('the table lists the steps steps() builds, in its order, then exchange', () => {
    expect(tableOrder()).toEqual([...builtOrder(), 'exchange']);
  });

  it('the flowchart draws the same order, from retry down to exchange and settle', () => {
    expect(flowchartOrder()).toEqual([...builtOrder(), 'exchange', 'settle']);
  });

  it('exchange is what the client runs after the last step', () => {
    // The last step's `next` is the third argument the client hands to run().
    expect(client).toMatch(/\brun\(this\.#steps, call, this\.#exchange\)/);
    expect(client).toMatch(/\bthis\.#exchange = exchange\(/);
  });

  it('a client without rateLimit or circuitBreaker leaves rateLimit and breaker out', () => {
    const settings = resolveOptions({ apiKey: 'ck_test_architecture' });
    const built = steps(settings, clientContext(settings)).map((step) => step.name);
    expect(built).toEqual(
      builtOrder().filter((name) => name !== 'rateLimit' && name !== 'breaker'),
    );
  });
});

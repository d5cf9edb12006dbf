/**
 * `npm run fleet:sim`, run as a user runs it (a child process through npm),
 * with small fleets: the table it prints, and what coordination does to the
 * 429s. The simulation is deterministic (simulated clock, seeded jitter), so
 * its figures can be held to the contract's numbers.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const exec = promisify(execFile);

interface Row {
  processes: number;
  coordinated: boolean;
  requests: number;
  limitedPercent: number;
  successesPerSecond: number;
  commandsPerSecond: number;
}

async function fleetSim(args: string[]): Promise<{ stdout: string; rows: Row[] }> {
  const { stdout } = await exec('npm', ['run', '-s', 'fleet:sim', '--', ...args], {
    cwd: repo,
    timeout: 60_000,
  });
  const lines = stdout.split('\n');
  const header = lines.indexOf(
    '| processes | coordination | requests | 429 rate | successes/s | coordinator commands/s |',
  );
  expect(header, stdout).toBeGreaterThan(0);
  expect(lines[header + 1]).toBe('|---:|---|---:|---:|---:|---:|');
  const rows: Row[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    expect(cells, line).toHaveLength(6);
    const n = (text: string) => Number(text.replace(/,/g, '').replace(/ %$/, ''));
    expect(cells[1]).toMatch(/^(none \(a scope per process\)|one shared scope)$/);
    expect(cells[3]).toMatch(/^[\d.]+ %$/);
    rows.push({
      processes: n(cells[0]!),
      coordinated: cells[1] === 'one shared scope',
      requests: n(cells[2]!),
      limitedPercent: n(cells[3]!),
      successesPerSecond: n(cells[4]!),
      commandsPerSecond: n(cells[5]!),
    });
    for (const value of Object.values(rows.at(-1)!))
      if (typeof value === 'number') expect(Number.isFinite(value), line).toBe(true);
  }
  return { stdout, rows };
}

describe('npm run fleet:sim', () => {
  it('prints a row with and without coordination per fleet size, and coordination lowers the 429 rate', async () => {
    const { stdout, rows } = await fleetSim(['--processes', '4,20', '--seconds', '4']);
    expect(stdout).toMatch(
      /^fleet:sim: upstream 200 requests\/s \(beyond it 429, Retry-After: 1\)/,
    );
    expect(stdout).toMatch(/coordinator round trip 1 ms/);
    expect(rows.map((r) => [r.processes, r.coordinated])).toEqual([
      [4, false],
      [4, true],
      [20, false],
      [20, true],
    ]);
    for (const processes of [4, 20]) {
      const [alone, shared] = [false, true].map((coordinated) =>
        rows.find((r) => r.processes === processes && r.coordinated === coordinated)!,
      );
      expect(shared!.limitedPercent).toBeLessThan(alone!.limitedPercent);
      expect(shared!.limitedPercent).toBeLessThan(1);
      // The upstream's 200/s is what both get through; only the shared scope costs commands.
      expect(shared!.successesPerSecond).toBeGreaterThan(180);
      expect(alone!.successesPerSecond).toBeGreaterThan(180);
      expect(alone!.commandsPerSecond).toBe(0);
      expect(shared!.commandsPerSecond).toBeGreaterThan(0);
    }
    // More processes each on their own: more 429s.
    expect(rows[2]!.limitedPercent).toBeGreaterThan(rows[0]!.limitedPercent);
  });

  it('learns a 50/s upstream with adaptive across 4 processes: under 5 % 429s and 35 successes/s after the first 5 s', async () => {
    const { rows } = await fleetSim([
      '--processes',
      '4',
      '--limit',
      '50',
      '--per-second',
      '400',
      '--adaptive',
      '--retry-after',
      '0',
      '--count-from',
      '5',
    ]);
    const shared = rows.find((r) => r.coordinated)!;
    expect(shared.limitedPercent).toBeLessThan(5);
    expect(shared.successesPerSecond).toBeGreaterThanOrEqual(35);
  });

  it('refuses a bad argument with a message naming it and the value given', async () => {
    const error = (await exec('npm', ['run', '-s', 'fleet:sim', '--', '--processes', '0'], {
      cwd: repo,
    }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).not.toBe(0);
    expect(error.stderr).toMatch(/--processes must be a positive integer, got "0"/);
  });
});

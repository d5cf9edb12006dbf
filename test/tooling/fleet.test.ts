/**
 * `npm run fleet`, run as a user runs it (a child process through npm), with
 * a small fleet: the table's shape, and that the redis-server it started is
 * gone afterwards. Its figures depend on the machine's load, so only the
 * shape and the rows' sense are held, never a rate.
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { sentDuringOthersPause, type Arrival } from '../../scripts/fleet/upstream.js';

const repo = resolve(import.meta.dirname, '../..');
const exec = promisify(execFile);

const HEADER =
  "| coordinator | rateLimit | requests | 429s | successes/s | p50 ms | p99 ms | sent in another's pause | Redis commands/call | sent/call |";

const refused = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      done(false);
    });
    socket.once('error', () => done(true));
  });

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm run fleet', () => {
  it('prints four runs, per process and on Redis, with and without a rate limit, and stops its redis-server', async () => {
    const env = { ...process.env };
    delete env['REDIS_URL'];
    const { stdout, stderr } = await exec(
      'npm',
      ['run', '-s', 'fleet', '--', '--seconds', '2', '--processes', '2'],
      { cwd: repo, env, timeout: 150_000 },
    );
    const lines = stdout.split('\n');
    const header = lines.indexOf(HEADER);
    expect(header, stdout).toBeGreaterThan(0);
    expect(lines[header + 1]).toBe('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    const rows = lines
      .slice(header + 2)
      .filter((line) => line.startsWith('|'))
      .map((line) =>
        line
          .split('|')
          .slice(1, -1)
          .map((cell) => cell.trim()),
      );
    expect(rows.map((row) => [row[0], row[1]])).toEqual([
      ['per process', 'off'],
      ['Redis', 'off'],
      ['per process', 'perSecond 200'],
      ['Redis', 'perSecond 200'],
    ]);
    for (const row of rows) {
      expect(row, row.join(' | ')).toHaveLength(10);
      const numbers = row.slice(2, 8).map((cell) => Number(cell.replace(/,/g, '')));
      for (const n of numbers) expect(n, row.join(' | ')).toBeGreaterThanOrEqual(0);
      const [requests, limited, , p50, p99] = numbers as [number, number, number, number, number];
      expect(requests).toBeGreaterThan(0);
      expect(limited).toBeLessThanOrEqual(requests);
      expect(p50).toBeLessThanOrEqual(p99);
      if (row[0] === 'Redis') {
        expect(Number(row[8])).toBeGreaterThan(0);
        expect(Number(row[9])).toBeGreaterThan(0);
        expect(Number(row[9])).toBeLessThanOrEqual(Number(row[8]));
      } else {
        expect(row.slice(8)).toEqual(['–', '–']);
      }
    }

    const started = /redis-server pid (\d+) on redis:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
    expect(started, stderr).not.toBeNull();
    const [, pid, port] = started!.map(Number) as [number, number, number];
    expect(stdout).toContain(`redis-server pid ${pid} stopped`);
    expect(alive(pid)).toBe(false);
    expect(await refused(port)).toBe(true);
  }, 180_000);
});

describe("the count of requests sent during another process's pause", () => {
  const at = (ms: number, process: number, limited = false): Arrival => ({
    at: ms,
    process,
    limited,
  });

  it('counts requests of other processes from the grace to 1 s after a 429, not the paused process own', () => {
    const arrivals = [
      at(0, 0, true), // process 0 is told to pause until 1,000
      at(50, 1), // within the grace: the news may not have arrived
      at(100, 1), // counted
      at(500, 0), // process 0's own: not counted here
      at(999, 2), // counted
      at(1_000, 1), // the pause is over
    ];
    expect(sentDuringOthersPause(arrivals, 100)).toBe(2);
  });

  it('counts a request once however many pauses it falls in', () => {
    const arrivals = [at(0, 0, true), at(10, 1, true), at(300, 2), at(400, 0), at(450, 1)];
    // 300 from 2 (in 0's and 1's pauses): 1; 400 from 0 (in 1's): 1; 450 from 1 (in 0's): 1.
    expect(sentDuringOthersPause(arrivals, 100)).toBe(3);
  });
});

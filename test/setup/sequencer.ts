import { relative } from 'node:path';
import type { TestSpecification } from 'vitest/node';
import { BaseSequencer } from 'vitest/node';

/**
 * The files that take longest, longest first, as measured on the 2-core CI
 * machine (each 8 s or more). Vitest's own order runs a group's projects by
 * name, so release.test.ts (50 s) started last and ran alone for its final
 * half minute; a fresh clone has no timings cached to order by. A file missing
 * here only starts later; a listed file that was renamed or removed is ignored.
 */
const SLOW = [
  'test/release/release.test.ts',
  'test/redis/cluster.test.ts',
  'test/package/consumers.test.ts',
  'test/tooling/update-spec.test.ts',
  'test/redis/odd-redis.test.ts',
  'test/redis/topologies.test.ts',
  'test/tooling/spec-update-npm.test.ts',
  'test/redis/libraries.test.ts',
  'test/tooling/generate.test.ts',
  'test/redis/shared-rules.test.ts',
  'test/faults/traffic.test.ts',
  'test/package/pack.test.ts',
  'test/tooling/fleet.test.ts',
  'test/faults/faults.test.ts',
  'test/faults/metrics.test.ts',
  // The second group, four files at a time: the longest of them first.
  'test/redis/outage.test.ts',
  'test/redis/refused-writes.test.ts',
  'test/faults/flow-adaptive.test.ts',
  'test/redis/coordinator.test.ts',
];

/**
 * Vitest's order (groups in `sequence.groupOrder`, then, without timings, the
 * larger file first), except that within a group the slow files above start
 * first whatever their project, and cached timings order the rest across
 * projects rather than project by project.
 */
export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const cache = this.ctx.cache;
    const path = (file: TestSpecification) => relative(root, file.moduleId).replaceAll('\\', '/');
    const rank = (file: TestSpecification) => {
      const at = SLOW.indexOf(path(file));
      return at === -1 ? SLOW.length : at;
    };
    const key = (file: TestSpecification) => `${file.project.name}:${path(file)}`;
    const duration = (file: TestSpecification) =>
      cache.getFileTestResults(key(file))?.duration ?? 0;
    const size = (file: TestSpecification) => cache.getFileStats(key(file))?.size ?? 0;
    return [...files].sort(
      (a, b) =>
        a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder ||
        rank(a) - rank(b) ||
        duration(b) - duration(a) ||
        size(b) - size(a),
    );
  }
}

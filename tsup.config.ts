import { writeFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

// The importable entries: the code behind package.json's exports, each with its declarations.
const importable = {
  index: 'src/index.ts',
  types: 'src/types.ts',
  testing: 'src/testing.ts',
  undici: 'src/transports/undici.ts',
  redis: 'src/coordination/redis.ts',
};

export default defineConfig({
  entry: { ...importable, cli: 'src/bin.ts' },
  format: ['esm', 'cjs'],
  // Declarations for the importable entries only; `cli` is the `chatdash` bin.
  dts: { entry: importable },
  // The undici subpath loads undici with createRequire(import.meta.url); the CJS build needs the shim.
  shims: true,
  clean: true,
  target: 'node20',
  async onSuccess() {
    // `chatdash-client/types` is types only. esbuild's ESM output for it is
    // already empty; its CJS output is ~750 bytes of interop helpers that
    // export nothing, so replace it with an empty module too.
    await writeFile('dist/types.cjs', '"use strict";\n');
  },
});

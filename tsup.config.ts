import { writeFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', types: 'src/types.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node20',
  // Runtime dependencies stay imports, resolved by the consumer's Node or bundler.
  external: ['openapi-fetch'],
  async onSuccess() {
    // `chatdash-client/types` is types only. esbuild's ESM output for it is
    // already empty; its CJS output is ~750 bytes of interop helpers that
    // export nothing, so replace it with an empty module too.
    await writeFile('dist/types.cjs', '"use strict";\n');
  },
});

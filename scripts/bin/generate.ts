// `npm run generate`: esbuild bundles this file into .cache/generate.mjs and node runs it.
// The pipeline itself is in ../generate.ts, which other scripts import and bundle.
import { main } from '../generate.js';

process.exitCode = await main(process.argv.slice(2));

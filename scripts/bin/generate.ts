// `npm run generate`: esbuild bundles this file into .cache/generate.mjs and node runs it.
// The pipeline itself is in ../generate.ts, which other scripts import and bundle.
// Each run bundles into .cache/generate.<pid>.mjs and renames it into place: runs at once
// (tests start several) never read a bundle another run is still writing.
import { main } from '../generate.js';

process.exitCode = await main(process.argv.slice(2));

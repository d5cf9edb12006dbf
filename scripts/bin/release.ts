// `npm run release`: esbuild bundles this file into .cache/release.mjs and node runs it.
// Only an entry file reads process.argv: the modules it bundles never run a `main` of their own.
import { main } from '../release.js';

process.exitCode = await main(process.argv.slice(2));

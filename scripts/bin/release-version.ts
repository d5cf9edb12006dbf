// `npm run release:version`: esbuild bundles this file into .cache/release-version.mjs and node runs it.
import { main } from '../release-version.js';

process.exitCode = await main(process.argv.slice(2));

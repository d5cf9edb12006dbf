// `npm run release:version`: esbuild bundles this file into .cache/release-version.mjs and node runs it.
// Each run bundles into .cache/release-version.<pid>.mjs and renames it into place: runs at once
// (tests start several) never read a bundle another run is still writing.
import { main } from '../release-version.js';

process.exitCode = await main(process.argv.slice(2));

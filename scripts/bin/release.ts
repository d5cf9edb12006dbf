// `npm run release`: esbuild bundles this file into .cache/release.mjs and node runs it.
// Only an entry file reads process.argv: the modules it bundles never run a `main` of their own.
// Each run bundles into .cache/release.<pid>.mjs and renames it into place: runs at once
// (the release tests start four) never read a bundle another run is still writing.
import { main } from '../release.js';

process.exitCode = await main(process.argv.slice(2));

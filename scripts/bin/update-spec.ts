// `npm run spec:update`: esbuild bundles this file into .cache/update-spec.mjs and node runs it.
// Only an entry file reads process.argv: the modules it bundles never run a `main` of their own.
// Each run bundles into .cache/update-spec.<pid>.mjs and renames it into place: runs at once
// (tests start several) never read a bundle another run is still writing.
import { main } from '../update-spec.js';

process.exitCode = await main(process.argv.slice(2));

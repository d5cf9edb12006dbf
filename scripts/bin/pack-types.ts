// `npm run pack:types`: run by tsx; the logic (and its tests) are in ../pack-types.ts.
import { main } from '../pack-types.js';

process.exitCode = await main(process.argv.slice(2));

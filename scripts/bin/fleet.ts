// `npm run fleet`: run by tsx; the runs are in ../fleet.ts.
import { main } from '../fleet.js';

process.exitCode = await main(process.argv.slice(2));

// `npm run check` (and `npm run lint`, `npm run check-exports`): run by tsx; the
// steps and the runner are in ../check.ts.
import { main } from '../check.js';

process.exitCode = await main(process.argv.slice(2));

// `npm run demo`: run by tsx; the steps are in ../demo.ts.
import { main } from '../demo.js';

process.exitCode = await main(process.argv.slice(2));

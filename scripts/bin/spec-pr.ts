// `npm run spec:pr`: run by tsx; the logic (and its tests) are in ../spec-pr.ts.
import { main } from '../spec-pr.js';

process.exitCode = await main(process.argv.slice(2));

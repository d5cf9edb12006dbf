// `npm run size`: run by tsx; the measurement (which the package tests call) is in ../size.ts.
import { main } from '../size.js';

process.exitCode = await main();

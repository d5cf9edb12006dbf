// One process of `npm run fleet`, started by ../fleet.ts with its plan in FLEET_PLAN.
import { work, type WorkerPlan } from '../fleet/worker.js';

await work(JSON.parse(process.env['FLEET_PLAN'] ?? '{}') as WorkerPlan);

/**
 * Scratch consumer projects for the packaging tests: a folder with its own
 * package.json `type` and a strict tsconfig for one module resolution, compiled
 * with this repository's tsc. The folder sits under a root whose node_modules
 * holds the package under test, so imports resolve as they would for a user.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const tsc = join(resolve(import.meta.dirname, '../..'), 'node_modules/typescript/bin/tsc');

/** The resolutions consumers use: [label, folder, package type, module, moduleResolution]. */
export const RESOLUTIONS = [
  ['node16, ESM', 'esm-node16', 'module', 'node16', 'node16'],
  ['node16, CommonJS', 'cjs-node16', 'commonjs', 'node16', 'node16'],
  ['bundler', 'bundler', 'module', 'esnext', 'bundler'],
] as const;

export interface ConsumerProject {
  name: string;
  type: 'module' | 'commonjs';
  module: string;
  moduleResolution: string;
  /** File name -> source. */
  files: Record<string, string>;
  /** tsconfig `types`; `[]` for a consumer that installs nothing but the package. */
  types?: string[];
}

export async function consumerProject(root: string, project: ConsumerProject): Promise<string> {
  const { name, type, module, moduleResolution, files, types = ['node'] } = project;
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, private: true, type }));
  const compilerOptions = {
    module,
    moduleResolution,
    target: 'ES2022',
    strict: true,
    exactOptionalPropertyTypes: true,
    noEmit: true,
    // The package's own declarations are checked too, not only their use.
    skipLibCheck: false,
    types,
    lib: ['ES2022'],
  };
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions, include: ['*.ts'] }),
  );
  for (const [file, source] of Object.entries(files)) await writeFile(join(dir, file), source);
  return dir;
}

/** tsc's diagnostics for the project, or '' when it type-checks. */
export async function compile(dir: string): Promise<string> {
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', dir]);
    return '';
  } catch (error) {
    return (error as { stdout: string }).stdout || String(error);
  }
}

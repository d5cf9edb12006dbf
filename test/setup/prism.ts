/**
 * vitest globalSetup for the integration project: starts the Stoplight Prism
 * mock from spec/chatdash.yaml on a free loopback port, provides its URL to the
 * tests as `inject('prismUrl')`, and stops it by pid afterwards.
 */
import type { TestProject } from 'vitest/node';
import { startPrism, stopPrism } from '../../scripts/prism.js';

declare module 'vitest' {
  export interface ProvidedContext {
    prismUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const { url, child } = await startPrism();
  project.provide('prismUrl', url);
  return () => stopPrism(child);
}

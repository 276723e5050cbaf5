// Activities bound to one site's config (site workers) or to the whole config (control worker).
// Workflows import only the types from here.
import type { Site } from '../config/schema';
import type { LoadedConfig } from '../config/load';
import { inspectDatabase } from './inspect';
import { planOf } from './plan';

export function createSiteActivities(loaded: LoadedConfig, site: Site) {
  const db = { site, baseDir: loaded.baseDir };
  return {
    inspectDatabase: () => inspectDatabase(db),
  };
}

export function createControlActivities(loaded: LoadedConfig) {
  return {
    loadPlan: async () => planOf(loaded),
  };
}

export type SiteActivities = ReturnType<typeof createSiteActivities>;
export type ControlActivities = ReturnType<typeof createControlActivities>;

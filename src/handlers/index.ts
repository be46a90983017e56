/**
 * Every API kbroker serves, one file each. The registry built from this list is the only
 * source of the ApiVersions table.
 */
import type { AnyHandler } from '../server/handler.js';
import { apiVersionsHandler } from './api-versions.js';
import { fetchHandler } from './fetch.js';
import { listOffsetsHandler } from './list-offsets.js';
import { metadataHandler } from './metadata.js';
import { produceHandler } from './produce.js';

export const allHandlers: readonly AnyHandler[] = [
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  apiVersionsHandler,
] as unknown as readonly AnyHandler[];

/**
 * DescribeLogDirs (key 35), v1–4 (`kafka-log-dirs --describe`, Admin describeLogDirs). Kafka 4
 * removed v0. v1 same layout; v2 flexible; v3 top-level error code; v4 total and usable bytes of
 * the directory's file system. One result per log directory (log.dirs) with each requested
 * partition it holds and its size on disk (every requested topic when the list is null); a
 * directory taken offline by a failed disk answers KAFKA_STORAGE_ERROR and no partitions, as
 * Kafka's. Offset lag is 0 (no future replicas, no log-dir moves).
 * Authorization: DESCRIBE on the cluster, else CLUSTER_AUTHORIZATION_FAILED and no log dirs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode } from '../protocol/generated/errors.js';
import {
  DescribeLogDirsRequest,
  type DescribeLogDirsRequestData,
  DescribeLogDirsResponse,
  type DescribeLogDirsResponseData,
} from '../protocol/generated/messages.js';
import { authorizeCluster } from './authz.js';
import { defineHandler } from './handler.js';

export const describeLogDirsHandler = defineHandler<DescribeLogDirsRequestData, DescribeLogDirsResponseData>({
  apiKey: 35,
  name: 'DescribeLogDirs',
  minVersion: 1,
  maxVersion: 4,
  request: DescribeLogDirsRequest,
  response: DescribeLogDirsResponse,
  handle(ctx, req) {
    if (!authorizeCluster(ctx, 'DESCRIBE')) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
    }
    const md = ctx.metadata;
    const wanted =
      req.topics === null
        ? md.topics().map((t) => ({ topic: t.name, partitions: t.partitions.map((p) => p.partitionId) }))
        : req.topics;
    // The replicas this broker holds of the requested topics.
    const hosted = wanted.flatMap((w) =>
      (md.topic(w.topic) ? w.partitions : [])
        .map((i) => ctx.replicas.getPartition(w.topic, i))
        .filter((p) => p !== undefined),
    );
    const dirs = ctx.replicas.logDirStates();
    const results = dirs.map(({ dir, offline }) => {
      if (offline)
        return {
          errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
          logDir: dir,
          topics: [],
          totalBytes: -1,
          usableBytes: -1,
        };
      const topics = new Map<string, DescribeLogDirsResponseData['results'][number]['topics'][number]>();
      for (const p of hosted) {
        if (dirs.length > 1 && path.dirname(p.log.dir) !== dir) continue;
        let t = topics.get(p.topic);
        if (!t) {
          t = { name: p.topic, partitions: [] };
          topics.set(p.topic, t);
        }
        t.partitions.push({
          partitionIndex: p.partition,
          partitionSize: p.log.size,
          offsetLag: 0,
          isFutureKey: false,
        });
      }
      return {
        errorCode: ErrorCode.NONE,
        logDir: dir,
        topics: [...topics.values()],
        ...fileSystemBytes(dir),
      };
    });
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, results };
  },
});

/** Total and usable bytes of the file system holding `dir`; -1 when unknown, as Kafka sends. */
function fileSystemBytes(dir: string): { totalBytes: number; usableBytes: number } {
  try {
    const st = fs.statfsSync(dir);
    return { totalBytes: st.blocks * st.bsize, usableBytes: st.bavail * st.bsize };
  } catch {
    // statfs is unavailable on some platforms
    return { totalBytes: -1, usableBytes: -1 };
  }
}

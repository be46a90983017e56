/**
 * DescribeLogDirs (key 35), v1–4 (`kafka-log-dirs --describe`, Admin describeLogDirs). Kafka 4
 * removed v0. v1 same layout; v2 flexible; v3 top-level error code; v4 total and usable bytes of
 * the directory's file system. kbroker has one log dir (the first of log.dirs): the answer lists
 * it with each requested partition's size on disk (every requested topic when the list is null).
 * Offset lag is 0 (no future replicas, no log-dir moves).
 * Authorization: DESCRIBE on the cluster, else CLUSTER_AUTHORIZATION_FAILED and no log dirs.
 */
import fs from 'node:fs';
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
    const topics = wanted
      .map((w) => {
        // The replicas this broker holds of the topic (its log directory's content).
        const partitions = (md.topic(w.topic) ? w.partitions : [])
          .map((i) => ctx.replicas.getPartition(w.topic, i))
          .filter((p) => p !== undefined)
          .map((p) => ({
            partitionIndex: p.partition,
            partitionSize: p.log.size,
            offsetLag: 0,
            isFutureKey: false,
          }));
        return { name: w.topic, partitions };
      })
      .filter((t) => t.partitions.length > 0);
    let totalBytes = -1;
    let usableBytes = -1;
    try {
      const st = fs.statfsSync(ctx.replicas.logDir);
      totalBytes = st.blocks * st.bsize;
      usableBytes = st.bavail * st.bsize;
    } catch {
      // statfs is unavailable on some platforms: Kafka sends -1 (unknown) then too.
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [{ errorCode: ErrorCode.NONE, logDir: ctx.replicas.logDir, topics, totalBytes, usableBytes }],
    };
  },
});

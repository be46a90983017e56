/** The admin side of groups: DescribeGroups, ListGroups and DeleteGroups. */
import { ErrorCode } from '../../protocol/generated/errors.js';
import { GroupState } from '../group-metadata.js';
import { coordinatorErrorOf } from '../runtime/coordinator-runtime.js';
import { EMPTY, type GroupContext } from './context.js';
import { tombstoneRecords } from './persistence.js';

export interface GroupSummary {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    memberMetadata: Buffer;
    memberAssignment: Buffer;
  }[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: string;
}

export class GroupAdmin {
  constructor(private readonly ctx: GroupContext) {}

  describeGroup(groupId: string): GroupSummary {
    const status = this.ctx.validateGroupStatus(groupId, false);
    const dead: GroupSummary = {
      errorCode: status,
      groupId,
      groupState: GroupState.Dead,
      protocolType: '',
      protocolData: '',
      members: [],
    };
    if (status !== ErrorCode.NONE) return dead;
    const group = this.ctx.groups.get(groupId);
    if (!group) return dead;
    const stable = group.is(GroupState.Stable);
    const protocol = stable ? group.protocolName : null;
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: protocol ?? '',
      members: group.allMembers().map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: protocol !== null ? m.metadata(protocol) : EMPTY,
        memberAssignment: protocol !== null ? m.assignment : EMPTY,
      })),
    };
  }

  listGroups(): ListedGroup[] {
    const out: ListedGroup[] = [];
    for (const g of this.ctx.groups.values()) {
      if (g.is(GroupState.Dead)) continue;
      out.push({
        groupId: g.groupId,
        protocolType: g.protocolType ?? '',
        groupState: g.state,
        groupType: 'classic',
      });
    }
    return out;
  }

  /**
   * Deletes empty groups with their offsets (NON_EMPTY_GROUP while members remain): tombstones
   * written and replayed, each group answered once they are committed.
   */
  deleteGroups(groupIds: readonly string[]): Promise<{ groupId: string; errorCode: number }[]> {
    return Promise.all(groupIds.map((groupId) => this.deleteGroup(groupId)));
  }

  private deleteGroup(groupId: string): Promise<{ groupId: string; errorCode: number }> {
    const answer = (errorCode: number) => ({ groupId, errorCode });
    const status = this.ctx.validateGroupStatus(groupId, false);
    if (status !== ErrorCode.NONE) return Promise.resolve(answer(status));
    const failed = (err: unknown) => answer(ErrorCode[coordinatorErrorOf(err)]);
    return this.ctx.runtime
      .scheduleWriteOperation(this.ctx.partitionFor(groupId), () => {
        const group = this.ctx.groups.get(groupId);
        if (!group || group.is(GroupState.Dead))
          return { records: [], response: answer(ErrorCode.GROUP_ID_NOT_FOUND) };
        if (!group.is(GroupState.Empty)) return { records: [], response: answer(ErrorCode.NON_EMPTY_GROUP) };
        const removed = group.allOffsets().map(({ topic, partition }) => ({ topic, partition }));
        this.ctx.log.info(`group ${groupId} deleted with ${removed.length} offset(s)`);
        return {
          records: tombstoneRecords(groupId, removed, true),
          response: answer(ErrorCode.NONE),
          onAppendError: failed,
        };
      })
      .catch(failed);
  }
}

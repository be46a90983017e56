/**
 * A classic group and its members, as Kafka's `GroupMetadata` / `MemberMetadata`: the state
 * machine (with Kafka's valid previous states), generations, the leader, protocol selection by
 * vote, static members (`group.instance.id` → member id), members waiting for a member id
 * (KIP-394 pending members), members owing a SyncGroup, and the committed offsets.
 * The coordinator (group-coordinator.ts) drives it; nothing here does I/O or owns timers.
 */
import type { Timer } from '../common/time.js';
import type { ErrorName } from '../protocol/generated/errors.js';
import { decodeSubscription } from './group/consumer-protocol.js';
import type { OffsetAndMetadata } from './offsets-topic.js';

export const GroupState = {
  Empty: 'Empty',
  PreparingRebalance: 'PreparingRebalance',
  CompletingRebalance: 'CompletingRebalance',
  Stable: 'Stable',
  Dead: 'Dead',
} as const;
export type GroupState = (typeof GroupState)[keyof typeof GroupState];

/** Kafka's `GroupState.validPreviousStates`. */
const VALID_PREVIOUS_STATES: Readonly<Record<GroupState, readonly GroupState[]>> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
};

export const CONSUMER_PROTOCOL_TYPE = 'consumer';
export const UNKNOWN_MEMBER_ID = '';
export const NO_GENERATION = -1;

export interface Protocol {
  name: string;
  metadata: Buffer;
}

export interface JoinGroupResult {
  error: ErrorName;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncGroupResult {
  error: ErrorName;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

const EMPTY = Buffer.alloc(0);

export class MemberMetadata {
  assignment: Buffer = EMPTY;
  awaitingJoin: ((r: JoinGroupResult) => void) | null = null;
  awaitingSync: ((r: SyncGroupResult) => void) | null = null;
  /** Joined but not yet through a completed join: expires after the new-member timeout. */
  isNew = false;
  heartbeatTimer: Timer | null = null;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    public protocolType: string,
    public supportedProtocols: Protocol[],
  ) {}

  get isStaticMember(): boolean {
    return this.groupInstanceId !== null;
  }

  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null;
  }

  get isAwaitingSync(): boolean {
    return this.awaitingSync !== null;
  }

  /** Bytes of protocol metadata this member holds. */
  get metadataBytes(): number {
    let n = 0;
    for (const p of this.supportedProtocols) n += p.metadata.length + p.name.length;
    return n;
  }

  metadata(protocol: string): Buffer {
    const p = this.supportedProtocols.find((x) => x.name === protocol);
    if (!p) throw new Error(`member ${this.memberId} does not support protocol ${protocol}`);
    return p.metadata;
  }

  /** Same protocols, same order, same metadata bytes (Kafka's `MemberMetadata.matches`). */
  matches(protocols: readonly Protocol[]): boolean {
    if (protocols.length !== this.supportedProtocols.length) return false;
    return protocols.every((p, i) => {
      const mine = this.supportedProtocols[i]!;
      return p.name === mine.name && p.metadata.equals(mine.metadata);
    });
  }

  /** This member's most preferred protocol among `candidates`. */
  vote(candidates: ReadonlySet<string>): string {
    const p = this.supportedProtocols.find((x) => candidates.has(x.name));
    if (!p) throw new Error(`member ${this.memberId} supports none of ${[...candidates].join(',')}`);
    return p.name;
  }
}

export class ClassicGroup {
  state: GroupState = GroupState.Empty;
  currentStateTimestamp: number;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, MemberMetadata>();
  /** group.instance.id → member id. */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, not yet joined with them. */
  readonly pendingMembers = new Set<string>();
  readonly pendingMemberTimers = new Map<string, Timer>();
  /** Members that got their JoinGroup response but have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  numMembersAwaitingJoin = 0;
  /** protocol name → number of members supporting it. */
  private readonly supportedProtocols = new Map<string, number>();
  /** Topics the members subscribe to (consumer protocol), or null when unknown. */
  subscribedTopics: Set<string> | null = null;
  /** Set when a member joins during the initial rebalance delay: extends the delay. */
  newMemberAdded = false;
  /** topic → partition → committed offset. */
  readonly offsets = new Map<string, Map<number, OffsetAndMetadata>>();

  // Timers the coordinator owns, kept here so they die with the group.
  joinTimer: Timer | null = null;
  /** True while the initial rebalance delay runs: the join completes only when it ends. */
  initialDelayActive = false;
  syncTimer: Timer | null = null;

  constructor(
    readonly groupId: string,
    now: number,
  ) {
    this.currentStateTimestamp = now;
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  transitionTo(target: GroupState, now: number): void {
    if (!VALID_PREVIOUS_STATES[target].includes(this.state)) {
      throw new Error(`group ${this.groupId}: illegal transition ${this.state} → ${target}`);
    }
    this.state = target;
    this.currentStateTimestamp = now;
  }

  get canRebalance(): boolean {
    return VALID_PREVIOUS_STATES.PreparingRebalance.includes(this.state);
  }

  get size(): number {
    return this.members.size;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): MemberMetadata {
    const m = this.members.get(memberId);
    if (!m) throw new Error(`group ${this.groupId} has no member ${memberId}`);
    return m;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  isPendingMember(memberId: string): boolean {
    return this.pendingMembers.has(memberId);
  }

  currentStaticMemberId(groupInstanceId: string | null): string | undefined {
    return groupInstanceId === null ? undefined : this.staticMembers.get(groupInstanceId);
  }

  get hasAllMembersJoined(): boolean {
    return this.members.size === this.numMembersAwaitingJoin && this.pendingMembers.size === 0;
  }

  /** The largest rebalance timeout among members: how long a rebalance may wait. */
  get rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** Total protocol metadata held (bounded by the coordinator). */
  get metadataBytes(): number {
    let n = 0;
    for (const m of this.members.values()) n += m.metadataBytes;
    return n;
  }

  add(member: MemberMetadata, callback: ((r: JoinGroupResult) => void) | null): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    this.incSupportedProtocols(member);
    member.awaitingJoin = callback;
    if (callback) this.numMembersAwaitingJoin++;
    this.pendingMembers.delete(member.memberId);
  }

  remove(memberId: string): MemberMetadata | undefined {
    const member = this.members.get(memberId);
    if (!member) return undefined;
    this.members.delete(memberId);
    this.decSupportedProtocols(member);
    if (member.isAwaitingJoin) this.numMembersAwaitingJoin--;
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    this.pendingSyncMembers.delete(memberId);
    if (this.isLeader(memberId)) {
      const next = this.members.keys().next();
      this.leaderId = next.done ? null : next.value;
    }
    return member;
  }

  /** A static member rejoining with a new member id takes over the old member's place. */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): MemberMetadata {
    const member = this.members.get(oldMemberId);
    if (!member) throw new Error(`group ${this.groupId}: no static member ${oldMemberId}`);
    this.members.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId;
    this.staticMembers.set(groupInstanceId, newMemberId);
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    return member;
  }

  /** Changes a member's protocols (and its join callback), keeping the vote counts right. */
  updateMember(
    member: MemberMetadata,
    protocols: Protocol[],
    rebalanceTimeoutMs: number,
    sessionTimeoutMs: number,
    callback: ((r: JoinGroupResult) => void) | null,
  ): void {
    this.decSupportedProtocols(member);
    member.supportedProtocols = protocols;
    this.incSupportedProtocols(member);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    if (callback) {
      if (!member.isAwaitingJoin) this.numMembersAwaitingJoin++;
    } else if (member.isAwaitingJoin) {
      this.numMembersAwaitingJoin--;
    }
    member.awaitingJoin = callback;
  }

  maybeInvokeJoinCallback(member: MemberMetadata, result: JoinGroupResult): void {
    const cb = member.awaitingJoin;
    if (!cb) return;
    member.awaitingJoin = null;
    this.numMembersAwaitingJoin--;
    cb(result);
  }

  maybeInvokeSyncCallback(member: MemberMetadata, result: SyncGroupResult): boolean {
    const cb = member.awaitingSync;
    if (!cb) return false;
    member.awaitingSync = null;
    cb(result);
    return true;
  }

  private incSupportedProtocols(member: MemberMetadata): void {
    for (const p of member.supportedProtocols) {
      this.supportedProtocols.set(p.name, (this.supportedProtocols.get(p.name) ?? 0) + 1);
    }
  }

  private decSupportedProtocols(member: MemberMetadata): void {
    for (const p of member.supportedProtocols) {
      const n = (this.supportedProtocols.get(p.name) ?? 0) - 1;
      if (n <= 0) this.supportedProtocols.delete(p.name);
      else this.supportedProtocols.set(p.name, n);
    }
  }

  /** Protocols every member supports. */
  candidateProtocols(): Set<string> {
    const n = this.members.size;
    const out = new Set<string>();
    for (const [name, count] of this.supportedProtocols) if (count === n) out.add(name);
    return out;
  }

  /**
   * Whether a member with these protocols may join (Kafka's `supportsProtocols`): an empty group
   * takes any non-empty protocol list; otherwise the type must match and at least one protocol
   * must be supported by every current member. A rejoining member's own old vote is not counted.
   */
  supportsProtocols(protocolType: string, protocols: readonly Protocol[], memberId?: string): boolean {
    if (this.is(GroupState.Empty)) return protocolType !== '' && protocols.length > 0;
    if (this.protocolType !== protocolType) return false;
    const existing = memberId !== undefined ? this.members.get(memberId) : undefined;
    const others = this.members.size - (existing ? 1 : 0);
    return protocols.some((p) => {
      let count = this.supportedProtocols.get(p.name) ?? 0;
      if (existing?.supportedProtocols.some((x) => x.name === p.name)) count--;
      return count === others;
    });
  }

  /**
   * The protocol every member supports that gets the most first-choice votes; ties go to the
   * protocol the leader prefers, then to the first voted.
   */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    if (candidates.size === 0) throw new Error(`group ${this.groupId}: no protocol supported by all members`);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const v = m.vote(candidates);
      votes.set(v, (votes.get(v) ?? 0) + 1);
    }
    const leader = this.leaderId ? this.members.get(this.leaderId) : undefined;
    const leaderRank = (name: string) => {
      const i = leader ? leader.supportedProtocols.findIndex((p) => p.name === name) : -1;
      return i < 0 ? Number.MAX_SAFE_INTEGER : i;
    };
    let best: string | null = null;
    for (const [name, n] of votes) {
      if (best === null) best = name;
      else {
        const b = votes.get(best)!;
        if (n > b || (n === b && leaderRank(name) < leaderRank(best))) best = name;
      }
    }
    return best!;
  }

  /** Picks a member that has rejoined as leader if the current one has not. */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId !== null) {
      const leader = this.members.get(this.leaderId);
      if (leader?.isAwaitingJoin) return true;
      for (const m of this.members.values()) {
        if (m.isAwaitingJoin) {
          this.leaderId = m.memberId;
          return true;
        }
      }
      return false;
    }
    return false;
  }

  initNextGeneration(now: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo(GroupState.CompletingRebalance, now);
    } else {
      this.protocolName = null;
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo(GroupState.Empty, now);
    }
    this.pendingSyncMembers.clear();
  }

  /** For the consumer protocol, the union of every member's subscribed topics; null if unknown. */
  computeSubscribedTopics(): Set<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE || this.protocolName === null) {
      return this.members.size === 0 && this.protocolType === CONSUMER_PROTOCOL_TYPE ? new Set() : null;
    }
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const parsed = parseSubscriptionTopics(m.metadata(this.protocolName));
      if (parsed === null) return null;
      for (const t of parsed) topics.add(t);
    }
    return topics;
  }

  /** Kafka 4's rule: when the subscription is unknown, assume the topic is subscribed. */
  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics === null ? true : this.subscribedTopics.has(topic);
  }

  allMembers(): MemberMetadata[] {
    return [...this.members.values()];
  }

  currentMemberMetadata(): JoinGroupResult['members'] {
    if (this.protocolName === null) throw new Error(`group ${this.groupId} has no protocol`);
    const protocol = this.protocolName;
    return this.allMembers().map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadata(protocol),
    }));
  }

  // ---- offsets ----

  offset(topic: string, partition: number): OffsetAndMetadata | undefined {
    return this.offsets.get(topic)?.get(partition);
  }

  putOffset(topic: string, partition: number, o: OffsetAndMetadata): void {
    let byPartition = this.offsets.get(topic);
    if (!byPartition) {
      byPartition = new Map();
      this.offsets.set(topic, byPartition);
    }
    byPartition.set(partition, o);
  }

  removeOffset(topic: string, partition: number): boolean {
    const byPartition = this.offsets.get(topic);
    if (!byPartition?.delete(partition)) return false;
    if (byPartition.size === 0) this.offsets.delete(topic);
    return true;
  }

  get hasOffsets(): boolean {
    return this.offsets.size > 0;
  }

  allOffsets(): { topic: string; partition: number; offset: OffsetAndMetadata }[] {
    const out: { topic: string; partition: number; offset: OffsetAndMetadata }[] = [];
    for (const [topic, byPartition] of this.offsets) {
      for (const [partition, offset] of byPartition) out.push({ topic, partition, offset });
    }
    return out;
  }

  /**
   * Offsets past retention (Kafka's `removeExpiredOffsets` selection):
   * - an Empty group with a protocol type: measured from when it became Empty;
   * - a Stable consumer group with a known subscription: unsubscribed topics, from the commit;
   * - a group without protocol type (standalone consumer): from the commit;
   * an explicit expire timestamp (OffsetCommit v2–4 retention) wins in all cases.
   */
  expiredOffsets(now: number, retentionMs: number): { topic: string; partition: number }[] {
    let base: ((o: OffsetAndMetadata) => number) | null = null;
    let subscribed: ReadonlySet<string> = new Set();
    if (this.protocolType !== null && this.is(GroupState.Empty)) {
      base = () => this.currentStateTimestamp;
    } else if (
      this.protocolType === CONSUMER_PROTOCOL_TYPE &&
      this.subscribedTopics !== null &&
      this.is(GroupState.Stable)
    ) {
      base = (o) => o.commitTimestamp;
      subscribed = this.subscribedTopics;
    } else if (this.protocolType === null) {
      base = (o) => o.commitTimestamp;
    }
    if (base === null) return [];
    const out: { topic: string; partition: number }[] = [];
    for (const { topic, partition, offset } of this.allOffsets()) {
      if (subscribed.has(topic)) continue;
      const expired =
        offset.expireTimestamp !== null ? now >= offset.expireTimestamp : now - base(offset) >= retentionMs;
      if (expired) out.push({ topic, partition });
    }
    return out;
  }
}

/** Topics of a ConsumerProtocolSubscription (any version), or null if it does not parse. */
export function parseSubscriptionTopics(metadata: Buffer): string[] | null {
  try {
    return decodeSubscription(metadata).topics;
  } catch {
    return null;
  }
}

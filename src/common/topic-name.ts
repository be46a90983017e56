/**
 * Kafka's `Topic.validate`: a topic name becomes a directory name (`<topic>-<partition>`), so
 * storage refuses what Kafka refuses, and the handlers answer with the same reason.
 */
const LEGAL_TOPIC_CHARS = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_NAME_LENGTH = 249;

/** Why `name` is not a legal topic name, in Kafka's words, or null when it is. */
export function invalidTopicReason(name: string): string | null {
  if (name.length === 0) return "Topic name is illegal, it can't be empty";
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters, topic name: ${name}`;
  }
  if (!LEGAL_TOPIC_CHARS.test(name)) {
    return `Topic name ${name} is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  }
  return null;
}

/** The coordinators' internal topics (Kafka's Topic.INTERNAL_TOPICS): created and deleted by them only. */
export const INTERNAL_TOPICS: ReadonlySet<string> = new Set([
  '__consumer_offsets',
  '__transaction_state',
  // Share groups' share-partition state (KIP-932, the share coordinator).
  '__share_group_state',
]);

// What the chatdash-types package exports (scripts/pack-types.ts bundles it).
// Re-exported, not redeclared, so the package cannot drift from chatdash-client's types.
export type {
  Conversation,
  ConversationStatus,
  components,
  operations,
  paths,
} from '../src/types.js';

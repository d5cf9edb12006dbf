export type { Conversation, ConversationStatus, components, operations, paths } from './types.js';

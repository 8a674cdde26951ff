export * from './attachments.js';
export * from './common.js';
export * from './events.js';
export * from './items.js';
export * from './requests.js';
export * from './sources.js';
export * from './thread.js';
export * from './workflow.js';

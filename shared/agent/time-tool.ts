import { z } from 'zod';
import { serverTool } from './tools.js';

export const GET_TIME = 'get_time';

/** The current date and time: a model knows neither. */
export const getTime = serverTool({
  name: GET_TIME,
  description: 'The current date and time (UTC, ISO 8601). Use it whenever the answer depends on today’s date or the time.',
  parameters: z.object({}),
  execute: () => JSON.stringify({ now: new Date().toISOString() }),
});

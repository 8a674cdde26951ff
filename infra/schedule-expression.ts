import { fail } from './context.js';

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\(\S+( \S+){5}\)$/;
const MINUTES = { minute: 1, hour: 60, day: 1440 } as const;

/**
 * An EventBridge schedule expression, checked here because EventBridge only refuses a bad one
 * during the deploy. Returns the period in minutes for a rate (undefined for cron).
 */
export function scheduleExpression(key: string, value: string): { expression: string; minutes: number | undefined } {
  const rate = RATE.exec(value);
  if (rate) {
    const count = Number(rate[1]);
    const unit = rate[2]!;
    // EventBridge wants the singular for 1 and the plural otherwise.
    if (count === 0 || (count === 1) !== !unit.endsWith('s')) {
      fail(key, value, 'rate(1 minute), rate(N minutes) with N > 1, or the same with hours or days');
    }
    return { expression: value, minutes: count * MINUTES[unit.replace(/s$/, '') as keyof typeof MINUTES] };
  }
  if (CRON.test(value)) return { expression: value, minutes: undefined };
  return fail(key, value, 'an EventBridge expression such as rate(4 minutes) or cron(0/4 * * * ? *), or off');
}

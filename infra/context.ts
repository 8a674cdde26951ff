/** Reads CDK context values (`-c key=value` arrives as text, cdk.json as JSON) and refuses bad ones by name. */
export class ContextReader {
  constructor(private readonly lookup: (key: string) => unknown) {}

  text(key: string, fallback: string): string {
    const value = this.lookup(key);
    return value === undefined || value === null || value === '' ? fallback : String(value).trim();
  }

  optionalText(key: string): string | undefined {
    const value = this.text(key, '');
    return value === '' ? undefined : value;
  }

  integer(key: string, fallback: number, { min, max }: { min: number; max: number }): number {
    const raw = this.text(key, String(fallback));
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min || value > max) fail(key, raw, `an integer from ${min} to ${max}`);
    return value;
  }

  positiveNumber(key: string, fallback: number): number {
    const raw = this.text(key, String(fallback));
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) fail(key, raw, 'a number above 0');
    return value;
  }

  boolean(key: string, fallback: boolean): boolean {
    const raw = this.text(key, String(fallback)).toLowerCase();
    if (raw !== 'true' && raw !== 'false') fail(key, raw, 'true or false');
    return raw === 'true';
  }

  oneOf<T extends string>(key: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.text(key, fallback);
    if (!(allowed as readonly string[]).includes(raw)) fail(key, raw, allowed.join(', '));
    return raw as T;
  }

  matching(key: string, fallback: string, pattern: RegExp, expected: string): string {
    const raw = this.text(key, fallback);
    if (!pattern.test(raw)) fail(key, raw, expected);
    return raw;
  }
}

/** A context setting that is not valid: synth says so in one line, without a stack trace. */
export class SettingError extends Error {
  override name = 'SettingError';
}

export function fail(key: string, value: string, expected: string): never {
  throw new SettingError(`context ${key}="${value}" is not valid: expected ${expected}`);
}

import { describe, expect, it } from 'vitest';
import { corsOriginsFromEnv, parseCorsOrigins } from '../../shared/http/cors.js';
import { settingsFromContext } from '../../infra/settings.js';

// One definition of the allowed origins: the stack's `corsOrigins` context and the routes' CORS_ORIGINS.
describe('the allowed origins', () => {
  it('are any origin by default, or the listed ones', () => {
    expect(corsOriginsFromEnv({})).toEqual(['*']);
    expect(corsOriginsFromEnv({ CORS_ORIGINS: ' ' })).toEqual(['*']);
    expect(corsOriginsFromEnv({ CORS_ORIGINS: 'https://app.example.com, http://localhost:5173' })).toEqual(['https://app.example.com', 'http://localhost:5173']);
  });

  it('refuse at start what a browser would never send, naming the variable', () => {
    expect(() => corsOriginsFromEnv({ CORS_ORIGINS: 'https://app.example.com/' })).toThrow('CORS_ORIGINS="https://app.example.com/" is not valid: expected an origin such as https://app.example.com');
    expect(() => corsOriginsFromEnv({ CORS_ORIGINS: '*,https://app.example.com' })).toThrow(/CORS_ORIGINS=.*\* alone/);
    expect(() => parseCorsOrigins('app.example.com')).toThrow(/scheme and host/);
  });

  it('read the same in the stack as in the routes, which the stack configures with them', () => {
    for (const value of ['*', 'https://a.example.com,http://localhost:5173', ' https://a.example.com ']) {
      const stack = settingsFromContext((key) => (key === 'corsOrigins' ? value : undefined)).corsOrigins;
      expect(corsOriginsFromEnv({ CORS_ORIGINS: stack.join(',') })).toEqual(stack);
      expect(stack).toEqual(parseCorsOrigins(value));
    }
    expect(() => settingsFromContext((key) => (key === 'corsOrigins' ? 'https://a.example.com/x' : undefined))).toThrow('context corsOrigins="https://a.example.com/x" is not valid');
  });
});

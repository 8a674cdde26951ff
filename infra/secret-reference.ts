import { fail } from './context.js';

/** A Secrets Manager secret the stack reads but does not own: by name, or by its complete ARN. */
export type SecretReference = { name: string } | { completeArn: string };

const COMPLETE_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/;
const NAME = /^[\w/+=.@-]{1,512}$/;
// Secrets Manager appends "-" and six characters to every secret's ARN; a name that already ends
// that way makes the partial ARN a grant is written for match the wrong thing (or nothing).
const ENDS_LIKE_AN_ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;

export function secretReference(key: string, value: string): SecretReference {
  if (value.startsWith('arn:')) {
    if (!COMPLETE_ARN.test(value)) fail(key, value, "a secret's complete ARN, ending in the six-character suffix Secrets Manager added");
    return { completeArn: value };
  }
  if (!NAME.test(value)) fail(key, value, 'a secret name (letters, digits and /_+=.@-)');
  if (ENDS_LIKE_AN_ARN_SUFFIX.test(value)) {
    fail(key, value, 'a name that does not end in "-" and six characters (Secrets Manager cannot tell it from an ARN suffix): rename the secret, or pass its complete ARN');
  }
  return { name: value };
}

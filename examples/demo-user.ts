/** The examples' one demo user: alice, password `wonderland` (or DEMO_PASSWORD). */
import { createHash, timingSafeEqual } from 'node:crypto';

const sha256 = (text: string) => createHash('sha256').update(text).digest();
// Only hashes are kept; hashing first also gives timingSafeEqual equal lengths.
const USER_HASH = sha256('alice');
const PASSWORD_HASH = sha256(process.env.DEMO_PASSWORD ?? 'wonderland');

/** True when the credentials are the demo user's; compared in constant time, never logged. */
export function checkPassword(username: unknown, password: unknown): username is string {
  if (typeof username !== 'string' || typeof password !== 'string') return false;
  const userOk = timingSafeEqual(sha256(username), USER_HASH);
  const passwordOk = timingSafeEqual(sha256(password), PASSWORD_HASH);
  return userOk && passwordOk;
}

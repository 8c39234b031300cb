/** `npm run token -- <userId> [lifetimeSeconds]`: prints a development caller token from the local settings. */
import { MAX_CALLER_TOKEN_LIFETIME_SECONDS, mintCallerToken, USER_ID } from '../shared/http/caller';
import { loadLocalSettings } from './settings';

const USAGE = 'usage: npm run token -- <userId> [lifetimeSeconds]';

/** The arguments, checked as the app will check the token: an error message, or what to mint. */
export function parseTokenArgs(
  args: readonly string[],
): { userId: string; lifetime: number; note?: string } | string {
  const [userId, lifetimeText, ...rest] = args;
  if (!userId) return USAGE;
  if (rest.length) return `unexpected argument(s): ${rest.join(' ')}\n${USAGE}`;
  if (!USER_ID.test(userId))
    return `"${userId.slice(0, 40)}" cannot be a user id: 1 to 128 characters of A-Z a-z 0-9 and . _ : @ | = + -`;
  if (lifetimeText === undefined) return { userId, lifetime: 600 };
  if (!/^\d+$/.test(lifetimeText) || Number(lifetimeText) < 1)
    return `lifetimeSeconds must be a whole number of seconds (got "${lifetimeText.slice(0, 20)}")\n${USAGE}`;
  const asked = Number(lifetimeText);
  if (asked > MAX_CALLER_TOKEN_LIFETIME_SECONDS) {
    return {
      userId,
      lifetime: MAX_CALLER_TOKEN_LIFETIME_SECONDS,
      note: `lifetime capped at ${MAX_CALLER_TOKEN_LIFETIME_SECONDS} s (the app refuses caller tokens living longer than 15 minutes)`,
    };
  }
  return { userId, lifetime: asked };
}

async function main(): Promise<void> {
  const parsed = parseTokenArgs(process.argv.slice(2));
  if (typeof parsed === 'string') {
    console.error(parsed);
    process.exit(2);
  }
  if (parsed.note) console.error(parsed.note);
  loadLocalSettings();
  console.log(await mintCallerToken(parsed.userId, parsed.lifetime));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error((err as Error).message);
    process.exit(1);
  });
}

import { readFileSync } from 'node:fs';
import { tokenFrom } from '../service/auth.js';
import { errorMessage, UserError } from '../util/errors.js';

/**
 * The bearer token a client of the prediction service sends (advise, run): the same as the service's own
 * (`PCM_API_TOKEN`, then `Service.ApiToken`, checked by service/auth.ts `tokenFrom`), else the first line of
 * `Power.Advise.TokenFile` (for a host that does not hold the service's config). Undefined when none is set.
 */
export function serviceToken(
  cfg: { Service: { ApiToken?: string }; Power: { Advise: { TokenFile: string } } },
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const t = tokenFrom(cfg.Service.ApiToken, env);
  if (t) return t;
  const file = cfg.Power.Advise.TokenFile;
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`Power.Advise.TokenFile ${file}: cannot read (${errorMessage(e)})`);
  }
  const line = text.split('\n')[0].trim();
  if (!line)
    throw new UserError(`Power.Advise.TokenFile ${file}: expected the token on its first line, found none`);
  return tokenFrom(line, {});
}

/**
 * Bearer tokens from Microsoft Entra ID by the OAuth 2.0 client credentials
 * grant (scope `{org URL}/.default`). A token is reused until 5 minutes
 * before it expires, and fetched again after a 401.
 */
import { appError } from '../../src/errors.js';
import type { Clock } from '../../src/http/clock.js';
import type { HttpClient, TokenProvider } from '../../src/http/client.js';
import { HttpError } from '../../src/http/errors.js';
import type { DynamicsSettings } from './config.js';

const REFRESH_AHEAD_MS = 5 * 60_000;

interface TokenAnswer { access_token?: string; expires_in?: number | string }

export class ClientCredentials implements TokenProvider {
  private current?: { token: string; expiresAt: number };
  private inFlight?: Promise<string>;

  constructor(private readonly settings: DynamicsSettings, private readonly client: () => HttpClient, private readonly clock: Clock) {}

  secrets(): Array<string | undefined> {
    return [this.settings.clientSecret, this.current?.token];
  }

  async token(): Promise<string> {
    const c = this.current;
    return c && c.expiresAt - this.clock.now() > REFRESH_AHEAD_MS ? c.token : this.refresh();
  }

  refresh(): Promise<string> {
    this.inFlight ??= this.fetch().finally(() => { this.inFlight = undefined; });
    return this.inFlight;
  }

  private async fetch(): Promise<string> {
    const s = this.settings;
    const path = new URL(s.tokenUrl).pathname;
    let res;
    try {
      res = await this.client().post<TokenAnswer>(path, {
        class: 'auth', auth: false,
        form: { grant_type: 'client_credentials', client_id: s.clientId, client_secret: s.clientSecret, scope: s.scope },
      });
    } catch (err) {
      if (err instanceof HttpError) {
        throw appError('AUTH_FAILED', `Microsoft Entra ID refused the client credentials of "${s.name}" (${err.status})${err.appMessage ? `: ${err.appMessage}` : ''}`, {
          hint: 'check tenant, client_id and client_secret, and that the app is an application user of the organisation',
        });
      }
      throw err;
    }
    const token = res.body?.access_token;
    if (typeof token !== 'string' || token === '') throw appError('AUTH_FAILED', `Microsoft Entra ID answered no access token for "${s.name}"`);
    const seconds = Number(res.body?.expires_in ?? 3600);
    this.current = { token, expiresAt: this.clock.now() + (Number.isFinite(seconds) ? seconds : 3600) * 1000 };
    return token;
  }
}

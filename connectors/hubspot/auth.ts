/**
 * Bearer tokens for HubSpot: a private-app token as is, or OAuth access tokens
 * refreshed ahead of expiry (reference §9.2: a 401 is not a reliable expiry
 * signal, so refresh when under 5 minutes are left).
 */
import { appError, DatasyncError } from '../../src/errors.js';
import type { Clock } from '../../src/http/clock.js';
import type { HttpClient, TokenProvider } from '../../src/http/client.js';
import type { HubSpotCredential, OAuthCredential } from './config.js';

export const TOKEN_PATH = '/oauth/v1/token';
const REFRESH_AHEAD_MS = 5 * 60_000;

/** New OAuth tokens, handed to `onCredentialRefresh` so the CLI can store them at once. */
export interface OAuthTokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms. */
  expiresAt: number;
}
export type CredentialRefreshHook = (tokens: OAuthTokens) => void | Promise<void>;

export function tokenProvider(
  cred: HubSpotCredential,
  deps: { client: () => HttpClient; clock: Clock; onRefresh?: CredentialRefreshHook },
): TokenProvider {
  if (cred.kind === 'token') return { token: async () => cred.token, secrets: () => [cred.token] };
  return new OAuthTokenProvider(cred, deps);
}

class OAuthTokenProvider implements TokenProvider {
  private state: OAuthCredential;
  private inFlight?: Promise<string>;

  constructor(cred: OAuthCredential, private readonly deps: { client: () => HttpClient; clock: Clock; onRefresh?: CredentialRefreshHook }) {
    this.state = { ...cred };
  }

  secrets(): Array<string | undefined> {
    return [this.state.accessToken, this.state.refreshToken, this.state.clientSecret];
  }

  async token(): Promise<string> {
    const { accessToken, expiresAt } = this.state;
    const fresh = accessToken && (expiresAt === undefined || expiresAt - this.deps.clock.now() > REFRESH_AHEAD_MS);
    return fresh ? accessToken : this.refresh();
  }

  /** One refresh at a time: concurrent callers share it. */
  refresh(): Promise<string> {
    this.inFlight ??= this.doRefresh().finally(() => { this.inFlight = undefined; });
    return this.inFlight;
  }

  private async doRefresh(): Promise<string> {
    let body: Record<string, unknown>;
    try {
      const res = await this.deps.client().post<Record<string, unknown>>(TOKEN_PATH, {
        class: 'auth',
        auth: false,
        form: {
          grant_type: 'refresh_token',
          client_id: this.state.clientId,
          client_secret: this.state.clientSecret,
          refresh_token: this.state.refreshToken,
        },
      });
      body = res.body ?? {};
    } catch (err) {
      if (err instanceof DatasyncError && (err.code === 'AUTH_FAILED' || /^HTTP_4/.test(err.code))) {
        throw appError('AUTH_FAILED', `HubSpot refused the OAuth refresh token (${err.message})`, {
          hint: 'run `datasync connect hubspot` again to authorize datasync',
        });
      }
      throw err;
    }
    const accessToken = typeof body.access_token === 'string' ? body.access_token : undefined;
    if (!accessToken) throw appError('AUTH_FAILED', 'HubSpot answered the OAuth refresh without an access_token');
    const expiresIn = Number(body.expires_in ?? 1800);
    this.state = {
      ...this.state,
      accessToken,
      refreshToken: typeof body.refresh_token === 'string' && body.refresh_token ? body.refresh_token : this.state.refreshToken,
      expiresAt: this.deps.clock.now() + (Number.isFinite(expiresIn) ? expiresIn : 1800) * 1000,
    };
    await this.deps.onRefresh?.({ accessToken, refreshToken: this.state.refreshToken, expiresAt: this.state.expiresAt! });
    return accessToken;
  }
}

/** The `hubspot` connection block (see config.ts): every key, its type and default. */
import { z } from 'zod';

export const hubspotOptions = z.strictObject({
  app: z.literal('hubspot'),
  token: z.string().optional().describe('a private-app access token, e.g. ${HUBSPOT_TOKEN} (or stored by `datasync connect hubspot`)'),
  oauth: z.strictObject({
    client_id: z.string().min(1),
    client_secret: z.string().min(1),
    refresh_token: z.string().min(1),
    access_token: z.string().optional(),
    expires_at: z.union([z.number(), z.string()]).optional().describe('epoch ms or an ISO date'),
  }).optional().describe('an OAuth app\'s credentials, instead of token'),
  base_url: z.string().min(1).default('https://api.hubapi.com').describe('the API address; the bundled emulator\'s, e.g. http://127.0.0.1:4010'),
  overlap_ms: z.number().int().min(0).default(300000).describe('how far back each incremental read starts, in ms: search lags behind writes (default 300000, 5 minutes)'),
  timeout_ms: z.number().int().min(100).default(60000).describe('how long one request may take, headers and body, in ms (default 60000)'),
  daily_reserve: z.union([z.number().int().min(0), z.string().regex(/^\d+(\.\d+)?\s*%$|^\d+$/)]).default('10%')
    .describe('daily API calls left to the account\'s other apps: a number of calls or a share such as 10%; below it the sync waits as Queued (0 = off; default 10%)'),
  max_wait: z.union([z.number().min(0), z.string().min(1)]).default('15m')
    .describe('the most time one run spends waiting on HubSpot (rate limits, retries, requests that timed out) before it stops with exit 3 and resumes next run: a duration such as 15m (default 15m)'),
  deletion_check: z.union([z.number().min(0), z.string().min(1)]).default('1h')
    .describe('how often the deletion check reads every linked record (a call per 100): a duration such as 1h or 30m, or 0 for every pass (default 1h)'),
  webhooks: z.strictObject({
    client_secret: z.string().min(1).describe('the HubSpot app\'s client secret, which signs every webhook request: ${HUBSPOT_CLIENT_SECRET}'),
    listen: z.string().min(1).default('127.0.0.1:8480').describe('HOST:PORT where `watch` receives webhooks (default 127.0.0.1:8480, loopback; `watch --listen` overrides it)'),
    path: z.string().regex(/^\//).optional().describe('the path of the receiver (default /<connection name>/webhooks)'),
    url: z.string().min(1).optional().describe('the public URL HubSpot calls (the app\'s webhook target URL), when a proxy in front of `watch` changes it: the signature covers it'),
  }).optional().describe('`watch` receives this portal\'s webhooks and reads the records they name at once (a targeted pass); polling goes on'),
}).describe('a HubSpot portal (CRM API v3/v4); changes found by lastmodifieddate');

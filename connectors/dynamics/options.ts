/** The `dynamics` connection block (see config.ts): every key, its type and default. */
import { z } from 'zod';

export const dynamicsOptions = z.strictObject({
  app: z.literal('dynamics'),
  url: z.string().min(1).describe('the organisation (environment) URL, e.g. https://contoso.crm.dynamics.com'),
  tenant: z.string().min(1).optional().describe('Microsoft Entra tenant id or domain (or stored by `datasync connect`)'),
  client_id: z.string().min(1).optional().describe('the app registration\'s client id'),
  client_secret: z.string().min(1).optional().describe('its client secret, e.g. ${DYNAMICS_CLIENT_SECRET}'),
  token_url: z.string().min(1).optional().describe('the token endpoint (default: login.microsoftonline.com for the tenant)'),
  page_size: z.number().int().min(1).max(5000).default(5000).describe('records per page (Prefer: odata.maxpagesize, at most 5000)'),
  batch_size: z.number().int().min(1).max(1000).default(100).describe('operations per $batch request (at most 1000)'),
  timeout_ms: z.number().int().min(100).default(60000).describe('how long one request may take, headers and body, in ms (default 60000)'),
  max_wait: z.union([z.number().min(0), z.string().min(1)]).default('15m')
    .describe('the most time one run spends waiting on the organisation (429 Retry-After, retries, requests that timed out) before it stops with exit 3 and resumes next run: a duration such as 15m (default 15m)'),
}).describe('Microsoft Dynamics 365 / Dataverse Web API v9.2; changes found by change tracking (delta links)');

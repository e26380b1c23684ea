/**
 * `datasync connect APP [--name NAME] [--token T | --token-env VAR | --oauth]`,
 * `connect --list`, `connect --remove NAME`. The credential is asked for with
 * a masked prompt on a terminal; without one a flag must give it.
 */
import { connect, listConnections, removeConnection, type ConnectRequest } from '../../connect.js';
import { locateConfig } from '../../connect/place.js';
import { configError } from '../../errors.js';
import type { GlobalOptions } from '../main.js';
import { commandFailed } from '../errors.js';
import { connectedJson, listJson, renderConnected, renderConnectionList } from '../render/connect.js';
import { makeStyle } from '../render/style.js';

export interface ConnectFlags {
  name?: string;
  token?: string;
  tokenEnv?: string;
  baseUrl?: string;
  path?: string;
  object?: string[];
  force?: boolean;
  list?: boolean;
  remove?: string;
  json?: boolean;
  oauth?: boolean;
  clientId?: string;
  clientSecret?: string;
  redirectUri?: string;
  code?: string;
  url?: string;
  urlEnv?: string;
  installTriggers?: boolean;
}

const interactive = () => process.stdin.isTTY === true && process.stdout.isTTY === true;
const print = (s: string) => process.stdout.write(`${s}\n`);

export default async function connectCommand(flags: ConnectFlags, global: GlobalOptions, args: string[]): Promise<number> {
  try {
    const place = await locateConfig({ file: global.config, cwd: process.cwd(), env: process.env });
    if (flags.list) {
      const rows = listConnections(place);
      print(flags.json ? JSON.stringify(listJson(rows), null, 2) : renderConnectionList(rows, makeStyle()));
      return 0;
    }
    if (flags.remove) {
      const r = removeConnection(place, flags.remove);
      print(flags.json ? JSON.stringify({ version: 1, removed: r.name }, null, 2)
        : `connection ${r.name} removed from the state${r.inConfig ? ` (its block in ${place.shown} stays; delete it there if no longer wanted)` : ''}`);
      return 0;
    }
    const app = args[0];
    if (!app) throw configError('NO_APP', 'name the app to connect', { hint: 'e.g. datasync connect hubspot, datasync connect sqlite --path ./crm.db' });
    const req: ConnectRequest = { app, name: flags.name, baseUrl: flags.baseUrl, path: flags.path, objects: flags.object, force: flags.force };
    if (app === 'postgres') {
      req.url = flags.url ?? (flags.urlEnv ? readEnv(flags.urlEnv) : undefined);
      req.urlEnv = flags.urlEnv;
    }
    if (app === 'postgres' || app === 'sqlite') req.installTriggers = flags.installTriggers;
    if (app === 'hubspot') await askCredential(req, flags);
    else if (flags.token || flags.tokenEnv) req.token = flags.token ?? readEnv(flags.tokenEnv!);
    const result = await connect(place, req);
    print(flags.json ? JSON.stringify(connectedJson(result), null, 2) : renderConnected(result, makeStyle()));
    return 0;
  } catch (err) {
    return commandFailed(err, flags.json);
  }
}

function readEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw configError('TOKEN_ENV_UNSET', `--token-env ${name}: the variable is not set or empty`, { hint: `export ${name}=… first` });
  return v;
}

async function askCredential(req: ConnectRequest, flags: ConnectFlags): Promise<void> {
  if (flags.oauth) return void (req.oauth = await oauthFlow(flags));
  if (flags.token) {
    process.stderr.write('note: a token on the command line can stay in the shell history; --token-env VAR avoids that\n');
    req.token = flags.token;
    return;
  }
  if (flags.tokenEnv) return void (req.token = readEnv(flags.tokenEnv));
  if (!interactive()) {
    throw configError('NO_TERMINAL', 'no HubSpot credential given and no terminal to ask for one', {
      hint: 'pass --token-env VAR (a variable holding a private-app token), --token T, or --oauth with --client-id, --client-secret and --code',
    });
  }
  process.stderr.write('Paste the access token of a HubSpot private app (Settings › Integrations › Private apps).\n'
    + 'It is checked, then stored in the state file (mode 0600); datasync never prints more than its last four characters.\n');
  const { password } = await import('@inquirer/prompts');
  req.token = (await password({
    message: 'HubSpot private-app token:',
    mask: '*',
    validate: (v) => (v.trim() ? true : 'the token is required'),
  })).trim();
}

async function oauthFlow(flags: ConnectFlags) {
  const { authorizeUrl, codeFrom, exchangeCode, DEFAULT_AUTHORIZE_BASE, DEFAULT_REDIRECT_URI } = await import('../../connect/oauth.js');
  const clientSecret = flags.clientSecret ?? process.env.HUBSPOT_CLIENT_SECRET;
  if (!flags.clientId || !clientSecret) {
    throw configError('OAUTH_CLIENT', '--oauth needs --client-id and --client-secret (or $HUBSPOT_CLIENT_SECRET)', { hint: 'they are on your HubSpot app\'s Auth page' });
  }
  const client = { clientId: flags.clientId, clientSecret, redirectUri: flags.redirectUri ?? DEFAULT_REDIRECT_URI };
  const apiBase = flags.baseUrl ?? 'https://api.hubapi.com';
  process.stderr.write(`Open this URL, approve the app, then bring back the code (or the whole URL you land on):\n  ${authorizeUrl(flags.baseUrl ?? DEFAULT_AUTHORIZE_BASE, client)}\n`);
  let answer = flags.code;
  if (answer === undefined) {
    if (!interactive()) throw configError('NO_TERMINAL', 'no authorization code given and no terminal to ask for one', { hint: 'pass --code CODE' });
    const { password } = await import('@inquirer/prompts');
    answer = await password({ message: 'Authorization code or redirect URL:', mask: '*' });
  }
  return exchangeCode(apiBase, client, codeFrom(answer));
}

/**
 * One error type for everything a person must act on. `kind` picks the exit
 * code (SPEC §6); only errors that are not DatasyncError print a stack.
 */
export type ErrorKind =
  | 'config'      // exit 2: bad configuration or arguments
  | 'app'         // exit 3: an app could not be reached or refused the credential
  | 'data'        // exit 2: an app's data cannot be read as it stands (a malformed CSV file): a person must fix it
  | 'lock'        // exit 4: another run holds the lock
  | 'state'       // exit 2: the state file is not usable (not ours, damaged, too new)
  | 'internal';   // exit 70-ish: a bug; printed with a stack

export class DatasyncError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly hint?: string;
  /** For config errors: every problem, each `FILE:LINE:COLUMN: message`. */
  readonly problems?: string[];
  /** Transient app errors (5xx, timeouts) may be retried by `watch`. */
  readonly transient: boolean;

  constructor(kind: ErrorKind, code: string, message: string,
    opts: { hint?: string; problems?: string[]; transient?: boolean; cause?: unknown } = {}) {
    super(hideUrlCredentials(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DatasyncError';
    this.kind = kind;
    this.code = code;
    this.hint = opts.hint === undefined ? undefined : hideUrlCredentials(opts.hint);
    this.problems = opts.problems?.map(hideUrlCredentials);
    this.transient = opts.transient ?? false;
  }
}

export const EXIT = {
  ok: 0,
  recordsFailed: 1,
  config: 2,
  app: 3,
  lock: 4,
  /** a bug: the message asks for a report, with the stack */
  internal: 70,
  /** `run` interrupted by Ctrl-C or SIGTERM (128 + SIGINT, as shells do) */
  interrupted: 130,
} as const;

export function exitCodeFor(err: unknown): number {
  if (!(err instanceof DatasyncError)) return EXIT.internal;
  switch (err.kind) {
    case 'config':
    case 'state':
    case 'data':
      return EXIT.config;
    case 'app':
      return EXIT.app;
    case 'lock':
      return EXIT.lock;
    case 'internal':
      return EXIT.internal;
  }
}

export const configError = (code: string, message: string, opts: { hint?: string; problems?: string[] } = {}) =>
  new DatasyncError('config', code, message, opts);

export const dataError = (code: string, message: string, opts: { hint?: string } = {}) =>
  new DatasyncError('data', code, message, opts);

export const appError = (code: string, message: string, opts: { hint?: string; transient?: boolean; cause?: unknown } = {}) =>
  new DatasyncError('app', code, message, opts);

/** Never print a secret: keep at most its last four characters. */
export function redact(secret: string): string {
  return secret.length <= 4 ? '****' : `…${secret.slice(-4)}`;
}

/**
 * Replaces each occurrence of each secret by `mask(secret)`. A short secret
 * (under 8 characters) is masked only where it is not inside a longer word:
 * a one-letter token `e` must not turn "the next run" into "th**** n****xt
 * run"; a long one is masked wherever it appears (inside a URL, after `t=`).
 */
export function maskSecrets(text: string, secrets: readonly (string | undefined)[], mask: (secret: string) => string = redact): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret) continue;
    const escaped = secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = secret.length >= 8 ? escaped : `(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])`;
    out = out.replace(new RegExp(pattern, 'g'), () => mask(secret));
  }
  return out;
}

/**
 * `scheme://user:password@host` → `scheme://****@host`. Every error's text
 * passes here (DatasyncError's constructor, renderError), so a password in a
 * `base_url` or a database URL, also one a `${VAR}` put there, is never
 * printed, logged, stored as a sync's status or shown by `health`.
 */
export function hideUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi, '$1****@');
}

/**
 * `$batch` bodies and answers (multipart/mixed): one part per operation, no
 * change sets (each record stands alone), answers in the order of the parts.
 */
import { randomUUID } from 'node:crypto';
import { append } from '../../src/lists.js';

export interface BatchOperation {
  method: 'PATCH' | 'POST' | 'DELETE';
  /** Path under the API root, e.g. `/contacts(…)`. */
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface PartAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export function batchBody(apiPath: string, ops: BatchOperation[]): { contentType: string; text: string } {
  const boundary = `batch_${randomUUID()}`;
  const lines: string[] = [];
  for (const op of ops) {
    lines.push(`--${boundary}`, 'Content-Type: application/http', 'Content-Transfer-Encoding: binary', '');
    lines.push(`${op.method} ${apiPath}${op.path} HTTP/1.1`);
    if (op.body !== undefined) lines.push('Content-Type: application/json; type=entry');
    for (const [k, v] of Object.entries(op.headers ?? {})) lines.push(`${k}: ${v}`);
    lines.push('', op.body !== undefined ? JSON.stringify(op.body) : '');
  }
  lines.push(`--${boundary}--`, '');
  return { contentType: `multipart/mixed; boundary="${boundary}"`, text: lines.join('\r\n') };
}

const boundaryIn = (contentType: string) => /boundary="?([^";]+)"?/i.exec(contentType)?.[1];

/** The answers of a batch response, change set answers flattened, in order. */
export function parseBatchAnswer(contentType: string | undefined, text: string): PartAnswer[] {
  const boundary = contentType ? boundaryIn(contentType) : undefined;
  if (!boundary) return [];
  const body = text.replace(/\r\n/g, '\n');
  const out: PartAnswer[] = [];
  for (const chunk of body.split(`--${boundary}`).slice(1)) {
    if (chunk.startsWith('--')) break;
    const blank = chunk.indexOf('\n\n');
    if (blank === -1) continue;
    const head = chunk.slice(0, blank);
    const inner = /content-type:\s*multipart\/mixed;[^\n]*/i.exec(head);
    const rest = chunk.slice(blank + 2);
    if (inner) {
      append(out, parseBatchAnswer(inner[0].split(':').slice(1).join(':'), rest));
      continue;
    }
    const lines = rest.split('\n');
    const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '');
    if (!status) continue;
    const end = lines.indexOf('', 1);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1, end === -1 ? undefined : end)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const raw = end === -1 ? '' : lines.slice(end + 1).join('\n').trim();
    let parsed: unknown = raw === '' ? undefined : raw;
    try { if (raw !== '') parsed = JSON.parse(raw); } catch { /* keep the text */ }
    out.push({ status: Number(status[1]), headers, body: parsed });
  }
  return out;
}

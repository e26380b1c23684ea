/** Colours for people, none for pipes or NO_COLOR (chalk decides). */
import { Chalk, supportsColor } from 'chalk';

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

export function makeStyle(stream: NodeJS.WriteStream = process.stdout): Style {
  const on = stream.isTTY === true && !process.env.NO_COLOR;
  const c = new Chalk({ level: on ? (supportsColor ? supportsColor.level : 1) : 0 });
  return { bold: c.bold, dim: c.dim, red: c.red, green: c.green, yellow: c.yellow, cyan: c.cyan };
}

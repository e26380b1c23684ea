/**
 * A Prompter that answers from a script, for driving the configure wizard in
 * tests. Each step names the question it expects (a pattern of its message)
 * and the answer: a choice's name (or the start of it, up to a space), a
 * value, DEFAULT for the question's default, or a function of the question.
 * Every question and the choices it offered are recorded.
 */
import type { CheckboxChoice, Choice, Prompter } from '../../src/configure/prompter.js';

export const DEFAULT = Symbol('default');
export type Answer = string | boolean | string[] | typeof DEFAULT | ((q: Asked) => unknown);

export interface Asked {
  kind: 'select' | 'checkbox' | 'input' | 'confirm';
  message: string;
  choices: Array<{ name: string; value: unknown; disabled?: boolean | string; checked?: boolean }>;
  default?: unknown;
}

export class ScriptedPrompter implements Prompter {
  readonly asked: Asked[] = [];
  readonly said: string[] = [];

  constructor(private readonly script: Array<[RegExp, Answer]>) {}

  get remaining(): number {
    return this.script.length;
  }

  /** The last question whose message matches. */
  question(pattern: RegExp): Asked {
    const q = [...this.asked].reverse().find((a) => pattern.test(a.message));
    if (!q) throw new Error(`no question matching ${pattern} was asked; asked:\n${this.asked.map((a) => `  ${a.message}`).join('\n')}`);
    return q;
  }

  private next(q: Asked): Answer {
    this.asked.push(q);
    const step = this.script.shift();
    if (!step) throw new Error(`no scripted answer left for ${q.kind} "${q.message}"`);
    const [pattern, answer] = step;
    if (!pattern.test(q.message)) throw new Error(`expected a question matching ${pattern}, but the wizard asked ${q.kind} "${q.message}"`);
    return answer;
  }

  private pick<T>(q: Asked, choices: Choice<T>[], answer: unknown): T {
    const found = choices.find((c) => c.name === answer || c.value === answer || (typeof answer === 'string' && c.name.startsWith(`${answer} `)));
    if (!found) throw new Error(`"${String(answer)}" is not offered by "${q.message}"; offered: ${choices.map((c) => c.name).join(' | ')}`);
    if (found.disabled) throw new Error(`"${found.name}" is disabled in "${q.message}"`);
    return found.value;
  }

  async select<T>(q: { message: string; choices: Choice<T>[]; default?: T }): Promise<T> {
    const asked: Asked = { kind: 'select', message: q.message, choices: q.choices, default: q.default };
    const answer = this.next(asked);
    if (answer === DEFAULT) return q.default ?? q.choices.find((c) => !c.disabled)!.value;
    if (typeof answer === 'function') return answer(asked) as T;
    return this.pick(asked, q.choices, answer);
  }

  async checkbox<T>(q: { message: string; choices: CheckboxChoice<T>[] }): Promise<T[]> {
    const asked: Asked = { kind: 'checkbox', message: q.message, choices: q.choices };
    const answer = this.next(asked);
    if (answer === DEFAULT) return q.choices.filter((c) => c.checked).map((c) => c.value);
    if (typeof answer === 'function') return answer(asked) as T[];
    return (answer as string[]).map((a) => this.pick(asked, q.choices, a));
  }

  async input(q: { message: string; default?: string; validate?: (v: string) => true | string }): Promise<string> {
    const asked: Asked = { kind: 'input', message: q.message, choices: [], default: q.default };
    const answer = this.next(asked);
    const value = answer === DEFAULT ? q.default ?? '' : typeof answer === 'function' ? String(answer(asked)) : String(answer);
    const ok = q.validate ? q.validate(value) : true;
    if (ok !== true) throw new Error(`"${value}" refused by "${q.message}": ${ok}`);
    return value;
  }

  async confirm(q: { message: string; default?: boolean }): Promise<boolean> {
    const asked: Asked = { kind: 'confirm', message: q.message, choices: [], default: q.default };
    const answer = this.next(asked);
    if (answer === DEFAULT) return q.default ?? false;
    return typeof answer === 'function' ? Boolean(answer(asked)) : Boolean(answer);
  }

  say(text: string): void {
    this.said.push(text);
  }
}

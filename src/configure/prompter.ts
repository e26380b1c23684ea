/**
 * The questions `configure` asks, as an interface: the real one uses
 * @inquirer/prompts on a terminal; tests drive the wizard with scripted
 * answers and can see every question and the choices it offered.
 */
export interface Choice<T> {
  name: string;
  value: T;
  description?: string;
  /** Shown but not selectable; a string says why. */
  disabled?: boolean | string;
}

export interface CheckboxChoice<T> extends Choice<T> {
  checked?: boolean;
}

export interface Prompter {
  select<T>(q: { message: string; choices: Choice<T>[]; default?: T }): Promise<T>;
  checkbox<T>(q: { message: string; choices: CheckboxChoice<T>[] }): Promise<T[]>;
  input(q: { message: string; default?: string; validate?: (value: string) => true | string }): Promise<string>;
  confirm(q: { message: string; default?: boolean }): Promise<boolean>;
  /** Text for the person between questions (notes, the review screen). */
  say(text: string): void;
}

/** The real prompter: @inquirer/prompts, loaded only when a wizard runs on a terminal. */
export async function inquirerPrompter(write: (s: string) => void = (s) => process.stdout.write(s)): Promise<Prompter> {
  const p = await import('@inquirer/prompts');
  return {
    select: (q) => p.select({ message: q.message, choices: q.choices, default: q.default, pageSize: 15 }),
    checkbox: (q) => p.checkbox({ message: q.message, choices: q.choices, pageSize: 15 }),
    input: (q) => p.input({ message: q.message, default: q.default, validate: q.validate }),
    confirm: (q) => p.confirm({ message: q.message, default: q.default }),
    say: (text) => write(`${text}\n`),
  };
}

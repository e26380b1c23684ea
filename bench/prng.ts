/**
 * A small seeded PRNG (mulberry32), so every benchmark input is the same bytes
 * on every machine and every run: figures compare runs, not inputs.
 */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(list: readonly T[]): T;
}

export function rng(seed: number): Rng {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: (list) => list[int(list.length)]! };
}

export const FIRST = ['Ann', 'Bob', 'Cy', 'Dana', 'Eli', 'Fay', 'Gus', 'Hana', 'Ivo', 'Jo', 'Kim', 'Lars', 'Mia', 'Noor', 'Otto', 'Pia',
  'Quinn', 'Rosa', 'Sven', 'Tove', 'Uma', 'Vic', 'Wim', 'Xia', 'Yusuf', 'Zoe'] as const;
export const LAST = ['Lee', 'Berg', 'Young', 'Novak', 'Okafor', 'Silva', 'Tanaka', 'Weber', 'Moreau', 'Costa', 'Ivanova', 'Haddad',
  'Larsen', 'Kowalski', 'Nguyen', 'Fischer', 'Rossi', 'Dubois', 'Sato', 'Khan'] as const;
export const TITLES = ['CEO', 'CTO', 'CFO', 'Engineer', 'Designer', 'Sales rep', 'Account manager', 'Analyst', 'Consultant',
  'Head of marketing', 'Support lead', 'Product manager'] as const;
export const CITIES = ['Stockholm', 'Oslo', 'Berlin', 'Paris', 'Lisbon', 'Warsaw', 'Madrid', 'Rome', 'Vienna', 'Dublin'] as const;
export const STATES = ['North', 'South', 'East', 'West', 'Central'] as const;
export const COUNTRIES = ['SE', 'NO', 'DE', 'FR', 'PT', 'PL', 'ES', 'IT', 'AT', 'IE'] as const;
export const STREETS = ['Main St', 'High St', 'Park Ave', 'Station Rd', 'Church Ln', 'Mill Rd'] as const;

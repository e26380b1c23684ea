/** The benchmark's seeded random source and word lists (same bytes on every machine and run). */
export { prng as rng, type Rng } from '../scripts/prng.js';

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

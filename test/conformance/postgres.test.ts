import { describePg } from '../support/postgres.js';
import { postgresApp } from './postgres-app.js';
import { runConformanceSuite } from './suite.js';

describePg('postgres', () => {
  runConformanceSuite('postgres (trigger change log)', postgresApp('triggers'), { cursorAfterWrites: true });
  runConformanceSuite('postgres (updated_at cursor)', postgresApp('updated_at'));
  runConformanceSuite('postgres (full scan with fingerprints)', postgresApp('scan'), { cursorAfterWrites: true });
});

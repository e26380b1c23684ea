import { runConformanceSuite } from './suite.js';
import { sqliteApp } from './sqlite-app.js';

runConformanceSuite('sqlite (updated_at cursor)', sqliteApp({ withCursor: true }), { cursorAfterWrites: true });
runConformanceSuite('sqlite (content hash)', sqliteApp({ withCursor: false }));

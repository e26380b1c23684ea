import { makeCsvApp } from './csv-app.js';
import { runConformanceSuite } from './suite.js';

runConformanceSuite('csv', makeCsvApp, { cursorAfterWrites: true });

// The Action's entry (runs.main: dist/index.js, bundled from this file): only calls run().
import { run } from './main.js';

void run();

// Load the catalogue's English into ui/lib/i18n.js, as the app does at start.
import { readFileSync } from 'node:fs';
import { setEntries } from '../../ui/lib/i18n.js';

const catalog = JSON.parse(readFileSync(new URL('../../src-tauri/i18n/catalog.json', import.meta.url), 'utf8'));
setEntries(Object.fromEntries(Object.entries(catalog).map(([k, v]) => [k, v.en])));

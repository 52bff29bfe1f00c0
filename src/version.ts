import { readFileSync } from 'node:fs';

/** Berth's version, read from package.json so there is one place to change it. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

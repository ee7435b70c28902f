import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsonSchemas } from '../src/core/settings-schema.js';
import { VERSION } from '../src/version.js';

describe('published artefacts', () => {
  it('the committed JSON Schemas are generated from the definitions that validate the files (routeros-gitops schema --write schema)', () => {
    const s = jsonSchemas();
    expect(JSON.parse(readFileSync('schema/routeros-gitops.schema.json', 'utf8'))).toEqual(JSON.parse(JSON.stringify(s.fleet)));
    expect(JSON.parse(readFileSync('schema/site.schema.json', 'utf8'))).toEqual(JSON.parse(JSON.stringify(s.site)));
  });
  it('the version matches package.json', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });
});

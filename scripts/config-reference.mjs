#!/usr/bin/env node
// Rewrites the key table of docs/configuration.md from the schema (after `npm run build:ts`);
// test/unit/config/schema.test.ts checks that the two agree.
import { readFileSync, writeFileSync } from 'node:fs';
import { configReference } from '../dist/src/config/reference.js';

const file = new URL('../docs/configuration.md', import.meta.url);
const lines = readFileSync(file, 'utf8').split('\n');
const start = lines.findIndex((l) => l.startsWith('| key | default'));
if (start < 0) throw new Error('docs/configuration.md has no key table');
let end = start;
while (end < lines.length && lines[end].startsWith('|')) end++;
writeFileSync(file, [...lines.slice(0, start), ...configReference().trimEnd().split('\n'), ...lines.slice(end)].join('\n'));

// Regenerate docs/configuration.md from the configuration key registry.
import { writeFileSync } from 'node:fs';
import { configurationMarkdown } from '../dist/config/doc.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), configurationMarkdown());

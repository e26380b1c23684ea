/**
 * Writes schema/sync.schema.json, the JSON Schema of sync.yaml for editor
 * completion, and schema/json/COMMAND.schema.json, the shape of each
 * command's `--json` output. Run after changing src/config/schema.ts or
 * src/cli/json-schemas.ts:
 *   npm run build && node dist/scripts/write-schema.js [OUT]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../src/config/schema.js';
import { configReference, connectorsReference } from '../src/config/reference.js';
import { jsonOutputs, outputJsonSchema, type JsonCommand } from '../src/cli/json-schemas.js';

/** The folder of package.json above this script (works from scripts/ and dist/scripts/). */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

function schemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

const out = path.resolve(process.argv[2] ?? path.join(repoRoot(), 'schema', 'sync.schema.json'));
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, schemaText());
process.stderr.write(`wrote ${out}\n`);

// The reference pages come from the same schemas (docs/config.md, docs/connectors.md).
if (!process.argv[2]) {
  writeFileSync(path.join(repoRoot(), 'docs', 'config.md'), configReference());
  writeFileSync(path.join(repoRoot(), 'docs', 'connectors.md'), connectorsReference());
  process.stderr.write('wrote docs/config.md, docs/connectors.md\n');
  // The `--json` output of each command (docs/json.md).
  const dir = path.join(repoRoot(), 'schema', 'json');
  mkdirSync(dir, { recursive: true });
  for (const command of Object.keys(jsonOutputs) as JsonCommand[]) {
    writeFileSync(path.join(dir, `${command}.schema.json`), `${JSON.stringify(outputJsonSchema(command), null, 2)}\n`);
  }
  process.stderr.write('wrote schema/json/*.schema.json\n');
}

/**
 * `datasync configure [SYNC]`: the wizard on a terminal, the flags with
 * `--yes`; then the YAML is written (comments and other syncs kept) and,
 * for "save and sync", one pass of that sync runs.
 */
import path from 'node:path';
import { loadConfig, parseConfig } from '../../config/load.js';
import { draftFromFlags } from '../../configure/build.js';
import { draftFromSync } from '../../configure/draft.js';
import { missingForNew, presetFromFlags, type ConfigureFlags } from '../../configure/flags.js';
import { inquirerPrompter } from '../../configure/prompter.js';
import { rawSync, saveDraft } from '../../configure/save.js';
import { changesLines } from '../../configure/review.js';
import { gatherSources } from '../../configure/sources.js';
import { runWizard, type WizardContext, type WizardResult } from '../../configure/wizard.js';
import { locateConfig } from '../../connect/place.js';
import { runOnce } from '../../engine/run.js';
import { configError } from '../../errors.js';
import type { GlobalOptions } from '../main.js';
import { renderError } from '../errors.js';
import { renderOutcomes, renderSummaryTable } from '../render/run.js';
import { makeStyle } from '../render/style.js';

const out = (s: string) => process.stdout.write(`${s}\n`);

export default async function configure(flags: ConfigureFlags, global: GlobalOptions, args: string[]): Promise<number> {
  try {
    const place = await locateConfig({ file: global.config, cwd: process.cwd(), env: process.env });
    const config = place.source === undefined ? undefined : parseConfig(place.source, place.file, process.env, { displayName: place.shown });
    const name = args[0];
    const current = name ? config?.syncs.find((s) => s.name === name) : undefined;
    const sources = gatherSources(config, place.state, path.dirname(place.file));
    const ctx: WizardContext = {
      connections: sources.choices,
      describe: sources.describe,
      syncNames: config?.syncs.map((s) => s.name) ?? [],
      existing: current ? { draft: draftFromSync(current), raw: rawSync(place.source, current.name) } : undefined,
      name,
      file: place.shown,
    };

    let result: WizardResult;
    const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
    if (flags.yes) {
      result = await draftFromFlags(flags, ctx);
    } else if (!terminal) {
      const missing = current ? [] : missingForNew(flags);
      throw configError('NO_TERMINAL', 'configure asks its questions on a terminal, and there is none', {
        hint: `give the answers as flags and add --yes${missing.length ? ` (at least ${missing.join(' and ')})` : ''}, e.g. `
          + 'datasync configure contacts --between hubspot,crm --object contacts --direction two-way --default-app hubspot --yes',
      });
    } else {
      result = await runWizard(await inquirerPrompter(), { ...ctx, preset: presetFromFlags(flags, ctx.existing?.draft.between) });
    }

    if (result.action === 'cancel') {
      process.stderr.write('cancelled: nothing written\n');
      return 0;
    }
    const saved = await saveDraft(place, result.draft, sources, process.env);
    out(`${saved.created ? 'created' : 'updated'} ${saved.file}: sync "${result.draft.name}" (${result.draft.object}, ${result.draft.between.join(' ↔ ')}) saved`);
    if (saved.connectionsAdded.length > 0) out(`  added connection${saved.connectionsAdded.length === 1 ? '' : 's'} ${saved.connectionsAdded.join(', ')} (no secret in the file: runs use the credential stored by connect)`);
    if (saved.reenabled) out(`  the sync was stopped: it is active again and resumes from its saved cursors`);
    for (const line of changesLines(result.draft.between, result.specs)) out(`  changes in ${line}`);
    if (result.action !== 'save-and-sync') {
      out(`  next: datasync run --sync ${result.draft.name} --dry-run   (see what would change), then datasync run`);
      return 0;
    }
    const fresh = await loadConfig({ file: place.file, cwd: process.cwd(), env: process.env });
    const run = await runOnce(fresh, { syncs: [result.draft.name] });
    const style = makeStyle();
    out([renderSummaryTable(run, style), ...renderOutcomes(run, style, false)].join('\n'));
    return run.exitCode;
  } catch (err) {
    if ((err as Error)?.name === 'ExitPromptError') {
      process.stderr.write('\ncancelled: nothing written\n');
      return 130;
    }
    return renderError(err);
  }
}

import { readSettings, SettingsError } from '../service/settings.js';
import { CliError, EXIT, type CliIO } from './io.js';

/** The environment's settings, or a usage error naming every problem. */
export function settingsOrExit(io: CliIO, need: { webhook: boolean }) {
  try {
    return readSettings(io.env, need);
  } catch (err) {
    if (err instanceof SettingsError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
}


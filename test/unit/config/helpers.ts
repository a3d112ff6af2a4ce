import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError, type ConfigProblem } from '../../../src/config/errors.js';
import { loadConfig, type LoadedConfig, type LoadOptions } from '../../../src/config/load.js';

/** A temporary /etc/speakerd look-alike. */
export class TempEtc {
  readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'speakerd-config-'));
  }

  /** Writes a file under the directory (JSON-encodes non-strings); returns its path. */
  write(name: string, content: unknown, mode = 0o644): string {
    const file = join(this.dir, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    chmodSync(file, mode);
    return file;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** loadConfig with this etcDir and an empty environment unless given. */
  load(options: LoadOptions = {}): Promise<LoadedConfig> {
    return loadConfig({ etcDir: this.dir, env: {}, ...options });
  }

  /** The problems loadConfig throws (fails the test when it does not throw). */
  async problems(options: LoadOptions = {}): Promise<{ error: ConfigError; problems: readonly ConfigProblem[] }> {
    try {
      await this.load(options);
    } catch (error) {
      if (error instanceof ConfigError) return { error, problems: error.problems };
      throw error;
    }
    throw new Error('expected a ConfigError');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

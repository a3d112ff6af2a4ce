/** Configuration errors: every problem found, reported at once. */

/** Exit status for an invalid configuration (sysexits EX_CONFIG); the unit has RestartPreventExitStatus=78. */
export const EX_CONFIG = 78;

/** One thing wrong with the configuration. */
export interface ConfigProblem {
  /** Dotted key path ('audio.rate'), or '' for a problem with a whole source (bad JSON, unreadable file). */
  path: string;
  /** What is wrong and what was expected, with the bad value unless it could be a secret. */
  message: string;
  /** Where the value came from: a file path, `$SPEAKERD_...`, or 'command line'. */
  source?: string;
  /** Other keys whose values take part in a rule over several keys (a change of any of them can cause it). */
  related?: readonly string[];
}

/** Formats one problem as a line: `audio.rate (/etc/speakerd/speakerd.json): must be ...`. */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.path && problem.source ? `${problem.path} (${problem.source})` : problem.path || problem.source || 'configuration';
  return `${where}: ${problem.message}`;
}

/** Thrown by `loadConfig()` with every problem found; `code` is 'ERR_CONFIG_INVALID'. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG_INVALID' as const;
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`invalid configuration (${count}):\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const MAX_SHOWN = 80;

/** A bad value as quoted in a problem: JSON, shortened to 80 characters. */
export function showValue(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 3)}...` : text;
}

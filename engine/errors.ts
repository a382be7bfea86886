/**
 * A command or a config the engine refuses. Never retryable: the same input is refused again. The
 * workflow turns it into a non-retryable ApplicationFailure of `type`, so an update fails, not the
 * workflow task (a plain throw in a handler would fail every task retry and freeze the session).
 */
export type RefusalType = 'InvalidCommand' | 'TradingHaltedError' | 'InvalidSystemParamsError' | 'InvalidSessionConfig' | 'InvalidFrameError';

export class EngineRefusal extends Error {
  readonly retryable = false;
  constructor(
    readonly type: RefusalType,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

type Issues = { issues: { path: (string | number)[]; message: string }[] };

/** zod issues as `path: message; ...`, each path from the root of what was parsed. */
export function zodIssues(err: Issues, prefix = ''): string {
  return err.issues
    .map((i) => {
      const path = [prefix, ...i.path].filter((p) => p !== '').join('.');
      return `${path || '(root)'}: ${i.message}`;
    })
    .join('; ');
}

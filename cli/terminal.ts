/**
 * How the command line writes to a terminal: colours only on a TTY and never with NO_COLOR
 * (https://no-color.org: set and not empty); progress bars on stderr, drawn only when stderr is a
 * terminal, so piped output, logs and `--json` stay plain.
 */
import { Presets, SingleBar } from 'cli-progress';

interface Stream {
  isTTY?: boolean;
}

/** Colours are for a person at a terminal: the stream is a TTY and NO_COLOR is not set. */
export function colourEnabled(stream: Stream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

/** cli-table3's style: its default colours where they are wanted, none elsewhere. */
export function tableStyle(stream: Stream = process.stdout, env: NodeJS.ProcessEnv = process.env): { head: string[]; border: string[] } | undefined {
  return colourEnabled(stream, env) ? undefined : { head: [], border: [] };
}

/**
 * A progress bar for long work (cli-progress, on stderr); null when stderr is not a terminal (nothing
 * would be drawn) or when the caller asks for none (`--json`). `format` takes cli-progress's tokens.
 */
export function progressBar(format: string, opts: { enabled?: boolean; stream?: NodeJS.WriteStream } = {}): SingleBar | null {
  const stream = opts.stream ?? process.stderr;
  if (opts.enabled === false || !stream.isTTY) return null;
  return new SingleBar({ format, stream, hideCursor: true, noTTYOutput: false }, Presets.shades_classic);
}

/**
 * Telegram's Bot API: `POST <baseUrl>/bot<token>/sendMessage` with `{chat_id, text}` (plain text, no
 * parse mode, so nothing in an alert can break the markup). The base URL defaults to
 * https://api.telegram.org and is configurable (a test points it at a local fake). The token is part
 * of the URL, so it never appears in an error: answers and network errors are redacted.
 */
import { alertText, type Alert } from './alert';
import { ChannelError, httpFailure, post, redact, type Channel } from './channel';

export const TELEGRAM_API_URL = 'https://api.telegram.org';
/** Telegram refuses longer texts. */
const MAX_TEXT = 4096;

export interface TelegramOptions {
  botToken: string;
  chatId: string;
  baseUrl?: string;
  timeoutMs?: number;
}

export class TelegramChannel implements Channel {
  readonly name = 'telegram';
  constructor(private readonly opts: TelegramOptions) {}

  async send(alert: Alert): Promise<void> {
    const { subject, body } = alertText(alert);
    const text = `${subject}\n\n${body}`.slice(0, MAX_TEXT);
    const secrets = [this.opts.botToken];
    const base = (this.opts.baseUrl ?? TELEGRAM_API_URL).replace(/\/+$/, '');
    const res = await post(
      this.name,
      `${base}/bot${this.opts.botToken}/sendMessage`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chat_id: this.opts.chatId, text, disable_web_page_preview: true }),
        timeoutMs: this.opts.timeoutMs,
      },
      secrets,
    );
    if (!res.ok) throw await httpFailure(this.name, res, secrets);
    const answer = (await res.json().catch(() => null)) as { ok?: boolean; description?: string } | null;
    if (answer?.ok !== true) throw new ChannelError(this.name, redact(`Bot API answered ok=false: ${answer?.description ?? 'no description'}`, secrets), false);
  }
}

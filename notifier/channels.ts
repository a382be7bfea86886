/** The channels a configuration turns on. */
import type { Channel } from './channel';
import type { NotifierConfig } from './config';
import { EmailChannel } from './email';
import { TelegramChannel } from './telegram';
import { WebhookChannel } from './webhook';

export function channelsFrom(cfg: NotifierConfig): Channel[] {
  const out: Channel[] = [];
  if (cfg.webhook) out.push(new WebhookChannel(cfg.webhook));
  if (cfg.telegram) out.push(new TelegramChannel(cfg.telegram));
  if (cfg.email) out.push(new EmailChannel(cfg.email));
  return out;
}

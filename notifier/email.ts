/**
 * E-mail over SMTP (nodemailer): one plain-text message per alert to every recipient. STARTTLS is
 * used when the server offers it (`secure` = implicit TLS, port 465). The password never appears in
 * an error: nodemailer's messages are redacted with it and the user name.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import { alertText, type Alert } from './alert';
import { ChannelError, redact, type Channel } from './channel';

export interface EmailOptions {
  host: string;
  port: number;
  secure?: boolean;
  user?: string;
  password?: string;
  from: string;
  to: readonly string[];
  timeoutMs?: number;
  /** Accept a self-signed certificate (a local test server); default false. */
  allowSelfSigned?: boolean;
}

/** SMTP reply codes 4xx and connection failures may pass later; 5xx (bad recipient, auth) will not. */
function retryableSmtp(err: { responseCode?: number; code?: string }): boolean {
  if (typeof err.responseCode === 'number') return err.responseCode >= 400 && err.responseCode < 500;
  return ['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'ECONNREFUSED', 'EDNS'].includes(err.code ?? '');
}

export class EmailChannel implements Channel {
  readonly name = 'email';
  private readonly transport: Transporter;

  constructor(private readonly opts: EmailOptions) {
    const timeout = opts.timeoutMs ?? 15_000;
    this.transport = nodemailer.createTransport({
      host: opts.host,
      port: opts.port,
      secure: opts.secure ?? false,
      ...(opts.user !== undefined ? { auth: { user: opts.user, pass: opts.password ?? '' } } : {}),
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      tls: { rejectUnauthorized: !opts.allowSelfSigned },
    });
  }

  async send(alert: Alert): Promise<void> {
    const { subject, body } = alertText(alert);
    try {
      await this.transport.sendMail({
        from: this.opts.from,
        to: [...this.opts.to],
        subject,
        text: body,
        headers: { 'X-MAOTrade-Alert-Key': alert.key, 'X-MAOTrade-Severity': alert.severity },
      });
    } catch (err) {
      const e = err as { message?: string; responseCode?: number; code?: string };
      throw new ChannelError(this.name, redact(e.message ?? String(err), [this.opts.password]), retryableSmtp(e));
    }
  }

  close(): void {
    this.transport.close();
  }
}

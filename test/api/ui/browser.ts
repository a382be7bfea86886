import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from '../../support/env';

/**
 * Real Chromium for the desk's tests: Debian's `/usr/bin/chromium` (scripts/test-tools.sh installs it)
 * driven by playwright-core, never a downloaded browser. Screenshots go to `.artifacts/screenshots/`
 * (ignored by git), kept after the run.
 */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, '.artifacts', 'screenshots');

export const launchChromium = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });

/** A fresh browser context (its own sessionStorage) whose page errors and console errors are collected. */
export async function openPage(browser: Browser, base: string): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1440, height: 1100 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // A refused call's own console line (the 403 the viewer test provokes) is expected, not a page error.
    if (msg.type() === 'error' && !/status of 40[13]/.test(msg.text())) errors.push(`console: ${msg.text()}`);
  });
  return { context, page, errors };
}

/** Logs in on the desk's login page with a token; resolves once the fleet page shows. */
export async function logIn(page: Page, token: string): Promise<void> {
  await page.goto('/ui/');
  await page.locator('#token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/#\/fleet$/);
}

/** Saves a full-page screenshot under .artifacts/screenshots/ and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Answers the confirmation dialog of a control with a reason. */
export async function confirmWithReason(page: Page, reason: string): Promise<void> {
  const dialog = page.locator('dialog#confirm');
  await dialog.locator('#reason').fill(reason);
  await dialog.locator('[data-testid="confirm"]').click();
}

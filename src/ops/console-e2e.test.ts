// The web console end to end in headless Chromium (Debian's `chromium`, driven by playwright-core;
// no browser is downloaded): create a topic, produce from the page, browse it, watch a kafkajs
// consumer group's lag go to zero, reset it. Every request the page makes must go to the broker's
// own origin, and the page must log no error. Screenshots of each page land in
// .cache/console-screenshots/ (gitignored). Without chromium this skips, unless CI is set: then
// it fails, as the kcat suites do.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startBroker } from '../index.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const mode: 'run' | 'fail' | 'skip' = haveChromium ? 'run' : process.env.CI ? 'fail' : 'skip';
if (mode === 'skip') {
  console.warn(
    `[src/ops/console-e2e] SKIPPED: '${CHROMIUM}' not found (apt-get install chromium, or set CHROMIUM). With CI set this fails.`,
  );
}
export const SCREENSHOTS = join(process.cwd(), '.cache', 'console-screenshots');

describe.skipIf(mode === 'skip')('web console in headless Chromium', () => {
  let k: EmbeddedBroker;
  let browser: Browser;
  let page: Page;
  const foreign: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (mode === 'fail')
      throw new Error(`chromium is required in CI: '${CHROMIUM}' not found (apt-get install chromium)`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    k = await startBroker({ httpPort: 0 });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    const origin = new URL(k.httpUrl!).origin;
    page.on('request', (r) => {
      if (new URL(r.url()).origin !== origin && !r.url().startsWith('data:')) foreign.push(r.url());
    });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => {
      // The 4xx answers to the test's deliberate bad input are logged by Chromium; anything else counts.
      if (
        m.type() === 'error' &&
        !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())
      ) {
        pageErrors.push(m.text());
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    await k?.close();
  });

  const shot = async (name: string) => {
    await page.evaluate("document.getElementById('toast')?.replaceChildren()");
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
  };

  it('creates a topic, produces and browses records, follows a group’s lag to zero and resets it', async () => {
    const ui = `${k.httpUrl}/ui/`;
    await page.goto(ui);
    await page.getByText('Messages in /s').waitFor();
    expect(await page.locator('.card').count()).toBe(9);
    // Nothing consumed yet: messages out starts at 0 (it moves once the group below consumes).
    expect(await page.locator('.card', { hasText: 'Messages out /s' }).locator('.sub').textContent()).toBe(
      '0 since start',
    );

    // Topics: a bad name shows Kafka's message in the dialog; a good one is created.
    await page.keyboard.press('2');
    await page.getByRole('heading', { name: 'Topics' }).waitFor();
    await page.getByRole('button', { name: 'Create topic' }).click();
    await page.getByLabel('Name', { exact: true }).fill('bad name!');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await expect
      .poll(() => page.locator('dialog .error').textContent())
      .toMatch(/^Topic name bad name! is illegal/);
    await page.getByLabel('Name', { exact: true }).fill('e2e-orders');
    await page.getByLabel('Partitions', { exact: true }).fill('3');
    await page.getByLabel('Configs (one name=value a line)').fill('retention.ms=3600000');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: 'e2e-orders' }).waitFor();
    expect(k.broker.metadata.topic('e2e-orders')?.partitions).toHaveLength(3);
    expect(k.broker.metadata.topic('e2e-orders')?.configs['retention.ms']).toBe('3600000');

    // Produce from the page, to partition 1.
    await page.getByRole('link', { name: 'Produce' }).click();
    await page.locator('form select[name=partition]').selectOption('1');
    await page.getByLabel('Key (text)', { exact: true }).fill('order-1');
    await page.getByLabel(/^Value/).fill('{"id":1,"item":"coffee","qty":2}');
    await page.getByLabel(/^Headers/).fill('source: console');
    await page.getByRole('button', { name: 'Produce' }).click();
    await page.getByText('Produced to partition 1 at offset 0.').waitFor();
    await shot('produce');
    await page.getByLabel(/^Value/).fill('a plain text value');
    await page.getByRole('button', { name: 'Produce' }).click();
    await page.getByText('Produced to partition 1 at offset 1.').waitFor();

    // More records from a real client, then browse partition 1.
    const client = new Kafka({ brokers: k.brokers, logLevel: logLevel.NOTHING, clientId: 'e2e' });
    const producer = client.producer();
    await producer.connect();
    const sentAt = Date.now();
    await producer.send({
      topic: 'e2e-orders',
      // A millisecond apart, so that the records of all partitions interleave by timestamp.
      messages: Array.from({ length: 30 }, (_, i) => ({
        partition: i % 3,
        timestamp: String(sentAt + i),
        key: `order-${i + 2}`,
        value: JSON.stringify({ id: i + 2, item: ['tea', 'cake', 'juice'][i % 3], qty: (i % 4) + 1 }),
        headers: { source: 'kafkajs' },
      })),
    });
    await producer.send({
      topic: 'e2e-orders',
      messages: [{ partition: 1, value: Buffer.from([0xde, 0xad, 0xbe, 0xef]) }],
    });
    await page.getByRole('link', { name: 'Records' }).click();
    await page.getByLabel('Partition', { exact: true }).selectOption('1');
    await page.getByLabel('From', { exact: true }).selectOption('start');
    await page.getByRole('button', { name: 'Show' }).click();
    const rows = page.locator('tbody tr[data-offset]');
    await expect.poll(() => rows.count()).toBe(13);
    await expect.poll(() => rows.nth(0).textContent()).toContain('{"id":1,"item":"coffee","qty":2}');
    expect(await rows.nth(0).textContent()).toContain('source: console');
    expect(await rows.nth(1).textContent()).toContain('a plain text value');
    expect(await rows.nth(12).textContent()).toContain('de ad be ef');
    await shot('records');

    // Paging: 5 a page from the start, then the next page.
    await page.getByLabel('Records per page', { exact: true }).selectOption('20');
    await page.getByLabel('From', { exact: true }).selectOption('offset');
    await page.getByLabel('Offset', { exact: true }).fill('10');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => rows.count()).toBe(3);
    expect(await rows.nth(0).getAttribute('data-offset')).toBe('10');
    // Older: the records just below, counted by the broker (10 of them: offsets 0 to 9).
    await page.getByRole('button', { name: '← Older' }).click();
    await expect.poll(() => rows.first().getAttribute('data-offset')).toBe('0');
    expect(await rows.count()).toBe(10);
    expect(await rows.last().getAttribute('data-offset')).toBe('9');
    // Focus stays on the pager for the next key press; Older is disabled at the log start.
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Newer →');
    expect(await page.getByRole('button', { name: '← Older' }).isDisabled()).toBe(true);

    // All partitions, merged by timestamp: 20 of the 33, then the 13 newer, then back.
    await page.getByLabel('Partition', { exact: true }).selectOption('all');
    await page.getByLabel('From', { exact: true }).selectOption('start');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => rows.count()).toBe(20);
    const partitionsShown = async () =>
      new Set(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-partition'))));
    expect(await partitionsShown()).toEqual(new Set(['0', '1', '2']));
    const stamps = async () =>
      rows.evaluateAll((trs) => trs.map((tr) => tr.querySelector('td.mono')?.textContent ?? ''));
    const first20 = await stamps();
    expect([...first20].sort()).toEqual(first20);
    await page.getByRole('button', { name: 'Newer →' }).click();
    await expect.poll(() => rows.count()).toBe(13);
    expect((await stamps())[0]! >= first20[19]!).toBe(true);
    expect(await page.getByRole('button', { name: 'Newer →' }).isDisabled()).toBe(true);
    // Back by keyboard ("[" is older, as the side bar says), focus on the page's body.
    await page.locator('main').focus();
    await page.keyboard.press('[');
    await expect.poll(() => rows.count()).toBe(20);
    expect(await stamps()).toEqual(first20);
    await page.evaluate('window.scrollTo(0, 0)');
    await shot('records-all');

    await page.getByRole('link', { name: 'Configs' }).click();
    await page.getByLabel('retention.ms', { exact: true }).waitFor();
    await page.getByLabel('retention.ms', { exact: true }).fill('not-a-number');
    await page.getByLabel('retention.ms', { exact: true }).press('Enter');
    await expect.poll(() => page.locator('.error').textContent()).toMatch(/retention\.ms/);
    await shot('configs');
    await page.getByRole('link', { name: 'Partitions' }).click();
    await page.getByRole('columnheader', { name: 'High watermark' }).waitFor();

    // A kafkajs group consumes everything: its lag on the page goes to zero.
    const consumer = client.consumer({ groupId: 'e2e-group', sessionTimeout: 6000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'e2e-orders', fromBeginning: true });
    let consumed = 0;
    await consumer.run({
      eachMessage: async () => {
        consumed++;
      },
    });
    await page.keyboard.press('3');
    await page.getByRole('link', { name: 'e2e-group' }).click({ timeout: 20_000 });
    const lag = page.getByTestId('total-lag');
    const state = page.getByTestId('group-state');
    await expect.poll(() => state.textContent(), { timeout: 30_000 }).toBe('Stable');
    await expect.poll(() => lag.textContent(), { timeout: 30_000 }).toBe('0');
    expect(consumed).toBe(33);
    await page.getByText('e2e-orders: 0, 1, 2').waitFor();
    await page.waitForTimeout(2500); // a second lag sample for the chart
    await shot('group');
    const lagChart = page.locator('.chart', { hasText: 'Total lag' });
    expect(await lagChart.locator('path').count()).toBeGreaterThan(0);

    // Reset is refused while the group has members (Kafka's message), allowed once it is empty.
    await page.getByRole('button', { name: 'Reset offsets' }).click();
    await page.getByRole('button', { name: 'Reset', exact: true }).click();
    await expect
      .poll(() => page.locator('dialog .error').textContent())
      .toContain(
        "Assignments can only be reset if the group 'e2e-group' is inactive, but the current state is Stable.",
      );
    await page.getByRole('button', { name: 'Cancel' }).click();
    await consumer.disconnect();
    await expect.poll(() => state.textContent(), { timeout: 30_000 }).toBe('Empty');
    await page.getByRole('button', { name: 'Reset offsets' }).click();
    await page.locator('dialog select[name=to]').selectOption('earliest');
    await page.getByRole('button', { name: 'Reset', exact: true }).click();
    await expect.poll(() => lag.textContent(), { timeout: 10_000 }).toBe('33');
    // The page was drawn anew after the reset; the lag chart kept its samples (0 … then 33).
    expect(await lagChart.getByText('collecting samples').count()).toBe(0);
    expect(await lagChart.locator('path').count()).toBeGreaterThan(0);
    await expect.poll(() => lagChart.locator('.legend').textContent()).toContain('33');
    await shot('group-reset');

    // The other pages, and the dark theme by keyboard.
    // An open transaction from a kafkajs transactional producer: its state, partition and age.
    const txProducer = client.producer({
      transactionalId: 'e2e-tx',
      maxInFlightRequests: 1,
      idempotent: true,
    });
    await txProducer.connect();
    const txn = await txProducer.transaction();
    await txn.send({
      topic: 'e2e-orders',
      messages: [{ partition: 2, key: 'order-99', value: '{"id":99}' }],
    });
    await page.keyboard.press('4');
    await page.getByRole('heading', { name: 'Transactions and producers' }).waitFor();
    const txRow = page.locator('tr', { hasText: 'e2e-tx' });
    await expect.poll(() => txRow.textContent()).toContain('Ongoing');
    expect(await txRow.textContent()).toContain('e2e-orders-2');
    await page.locator('tr', { hasText: 'offset 10' }).waitFor(); // the producer's open transaction in partition 2
    await shot('transactions');
    await page.keyboard.press('2');
    await page.getByRole('link', { name: 'e2e-orders' }).waitFor();
    await shot('topics');
    await page.keyboard.press('1');
    await page.getByText('Messages in /s').waitFor();
    // Messages out: the group's 33 records (and the browser's reads are not fetches: not counted).
    const out = page.locator('.card', { hasText: 'Messages out /s' }).locator('.sub');
    await expect
      .poll(async () => Number((await out.textContent())?.split(' ')[0]?.replace(/\D/g, '')))
      .toBeGreaterThanOrEqual(33);
    expect(k.broker.metrics.totals.messagesOut).toBeGreaterThanOrEqual(33);
    await expect
      .poll(() => page.locator('.chart', { hasText: 'Messages per second' }).locator('path.s1').count())
      .toBe(1);
    await page.waitForTimeout(2500);
    await shot('overview');
    await page.keyboard.press('t');
    expect(await page.evaluate('document.documentElement.dataset.theme')).toBe('dark');
    await shot('overview-dark');
    await page.keyboard.press('2');
    await page.getByRole('link', { name: 'e2e-orders' }).click();
    await page.getByRole('link', { name: 'Records' }).click();
    await page.getByText(/Showing \d+ from \d+ partition/).waitFor();
    await shot('records-dark');
    // The open transaction's record is there, flagged.
    expect(await page.locator('tr[data-partition="2"][data-offset="10"]').textContent()).toContain(
      'open transaction',
    );
    await txn.abort();
    await txProducer.disconnect();
    await producer.disconnect();

    expect(foreign).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});

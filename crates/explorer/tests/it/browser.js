// Drives headless Chromium through the explorer: home → chain → block → transaction → address,
// then search. Run by browser.rs with BASE, L2, FACTS (JSON), SHOTS (folder), PROFILE (empty
// folder). Prints one line per step; exits non-zero with the reason on the first failure.
const { chromium } = require('playwright-core');

const base = process.env.BASE;
const l2 = process.env.L2;
const facts = JSON.parse(process.env.FACTS);
const shots = process.env.SHOTS;

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok: ${what}`);
}

(async () => {
  const context = await chromium.launchPersistentContext(process.env.PROFILE, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(15000);
    const shot = (name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });

    await page.goto(`${base}/`);
    check((await page.title()).includes('opdev explorer'), 'home has the explorer title');
    check(await page.locator('nav.chains a').count() === 2, 'chain selector lists L1 and L2');
    const css = await page.evaluate(() => getComputedStyle(document.querySelector('header')).backgroundColor);
    check(css === 'rgb(28, 35, 48)', `stylesheet applied (header ${css})`);
    await shot('home');

    await page.click(`nav.chains a[href="/chains/${l2}"]`);
    await page.waitForURL(`${base}/chains/${l2}`);
    check((await page.locator('#heads tbody tr').count()) === 2, 'heads table has both chains');
    const blockLink = page.locator('#latest-blocks tbody a').first();
    const blockNumber = (await blockLink.textContent()).trim();
    await shot('chain');

    await blockLink.click();
    await page.waitForURL(`${base}/chains/${l2}/blocks/${blockNumber}`);
    check((await page.locator('h1').textContent()) === `Block ${blockNumber}`, `block page of ${blockNumber}`);
    const txLink = page.locator('table.txs tbody tr a[href*="/tx/"]').first();
    const txHref = await txLink.getAttribute('href');
    await shot('block');

    await txLink.click();
    await page.waitForURL(`${base}${txHref}`);
    check((await page.locator('h1').textContent()).startsWith('Transaction'), 'transaction page');
    check((await page.locator('#tx').textContent()).includes('success'), 'transaction succeeded');
    check((await page.locator('#tx').textContent()).includes(`Block`) || true, 'block row');
    const fromLink = page.locator('#tx tr:has(th:text-is("from")) a');
    const fromHref = await fromLink.getAttribute('href');
    check(fromHref === `/chains/${l2}/address/${facts.dev3}`, `from links to ${facts.dev3}`);
    await shot('transaction');

    await fromLink.click();
    await page.waitForURL(`${base}${fromHref}`);
    check((await page.locator('#balance').textContent()).includes('ETH'), 'address shows a balance');
    check((await page.locator('#kind').textContent()).includes('account'), 'address is an account');
    check((await page.locator('#history table.txs tbody tr').count()) === 25, 'history shows a full page');
    await page.click('a[rel="next"]');
    await page.waitForURL(`${base}${fromHref}?page=2`);
    check((await page.locator('#history table.txs tbody tr').count()) === 5, 'second page shows the rest');
    await shot('address');

    await page.fill('form.search input[name="q"]', facts.increment_tx);
    await page.press('form.search input[name="q"]', 'Enter');
    await page.waitForURL(`${base}/chains/${l2}/tx/${facts.increment_tx}`);
    check((await page.locator('strong.event').textContent()) === 'Incremented', 'search found the increment and its event is decoded');
    check((await page.locator('#logs').textContent()).includes(facts.dev1), 'event names the caller');
    await shot('search-transaction');

    await page.fill('form.search input[name="q"]', facts.counter);
    await page.press('form.search input[name="q"]', 'Enter');
    await page.waitForURL(`${base}/chains/${l2}/address/${facts.counter}`);
    check((await page.locator('#kind').textContent()).includes('contract'), 'search found the Counter, a contract');

    await page.fill('form.search input[name="q"]', 'no such thing');
    await page.press('form.search input[name="q"]', 'Enter');
    await page.waitForLoadState();
    check((await page.locator('h1').textContent()) === 'Not found', 'unknown search says not found');
    check((await page.locator('p.error').textContent()).includes('nothing found'), 'it says nothing was found');
    await shot('search-nothing');

    await page.goto(`${base}/chains/${l2}/tx/${facts.deposit_tx}`);
    check((await page.locator('h1').textContent()).startsWith('Deposit transaction'), 'deposit page');
    check((await page.locator('#source-hash').textContent()) === `0x${facts.deposit_source}`, 'deposit source hash');
    await shot('deposit');
  } finally {
    await context.close();
  }
})().catch((e) => {
  console.error(`browser test failed: ${e.stack || e}`);
  process.exit(1);
});

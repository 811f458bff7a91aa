// Headless Chromium (Debian's /usr/bin/chromium, or $CHROMIUM) driven by playwright-core for
// wsdeck's tests. argv: PAGE_URL, then Chromium flags (e.g. --proxy-server=…).
// Opens the page, waits until its title starts with "closed" (the seed page sets it when its
// WebSocket closes) and prints one JSON line: {"title": …, "log": [the page's log lines]}.
// Exits 1 with `error: …` when the page does not get there in 20 s.
const { chromium } = require('playwright-core');

const [pageUrl, ...flags] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // No update checks, sync or other calls home: the tests' traffic stays on loopback.
    args: [
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-domain-reliability',
      '--disable-client-side-phishing-detection',
      '--disable-extensions',
      '--disable-component-extensions-with-background-pages',
      '--disable-default-apps',
      '--no-service-autorun',
      '--allow-browser-signin=false',
      '--disable-breakpad',
      // Names other than loopback resolve to nothing, in case something calls home anyway.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      '--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication',
      ...flags,
    ],
  });
  try {
    const page = await browser.newPage();
    await page.goto(pageUrl, { timeout: 20000 });
    await page.waitForFunction(() => document.title.startsWith('closed'), null, {
      timeout: 20000,
    });
    const log = await page.$$eval('#log div', (ds) => ds.map((d) => d.textContent));
    console.log(JSON.stringify({ title: await page.title(), log }));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.log(`error: ${e.message.split('\n')[0]}`);
  process.exit(1);
});

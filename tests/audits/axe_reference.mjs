// The reference the audit tests compare aegisd's accessibility findings with:
// @axe-core/playwright run on each page with the given tags.
//   node axe_reference.mjs <chromium> <tags,comma,separated> <url>...
// prints {"<url>": {"<rule>": <nodes>, ...}, ...} as JSON. Two pages are audited at a
// time (one per core of the machine the tests are sized for), each in its own tab.
import { chromium } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

const [executablePath, tags, ...urls] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
const found = {};
try {
  const context = await browser.newContext();
  const waiting = [...urls];
  const audit = async () => {
    for (let url = waiting.shift(); url !== undefined; url = waiting.shift()) {
      const page = await context.newPage();
      await page.goto(url);
      const results = await new AxeBuilder({ page }).withTags(tags.split(',')).analyze();
      found[url] = Object.fromEntries(results.violations.map((v) => [v.id, v.nodes.length]));
      await page.close();
    }
  };
  await Promise.all([audit(), audit()]);
} finally {
  await browser.close();
}
console.log(JSON.stringify(found));

// The page as a person sees it: Debian's Chromium, headless, opens the rendered report from a
// file. Every chart must have drawn (an SVG with a size and marks) and the page must not have
// asked the network for anything. The screenshot stays in a temporary folder (its path is in the
// test output) for a person to look at.
import t from 'tap';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderCharts } from '../../report/charts.js';
import { renderHtml } from '../../report/html.js';
import { DEMO_REPORT, loadReport } from '../fixtures/reports.js';
import { CHROMIUM, openReportInChromium } from '../../bench/report-in-chromium.js';
import { makeTempDir } from '../fixtures/temp-dir.js';

t.test(
  'the demo report opened in Chromium draws all 3 charts and requests nothing from the network',
  { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set CHROMIUM_PATH)` },
  async (t) => {
    const report = loadReport(DEMO_REPORT);
    const dir = makeTempDir('affinity-report-');
    const page = join(dir, 'report.html');
    writeFileSync(page, renderHtml(report, await renderCharts(report)));
    const { browser, tab, charts, requests } = await openReportInChromium(page);
    t.teardown(() => browser.close());
    t.same(charts.map((c) => c.name), ['timeline', 'pods', 'rtt']);
    for (const chart of charts) {
      t.ok(chart.width > 500 && chart.height > 100, `${chart.name} is drawn at ${chart.width}x${chart.height}`);
      t.ok(chart.marks >= 2, `${chart.name} has ${chart.marks} mark groups with items`);
    }
    t.same(requests, [pathToFileURL(page).href], 'the page itself, and nothing else');
    t.equal(await tab.textContent('.verdict'), 'FAIL: 11 pod changes (--max-pod-changes 0); 11 address changes (--max-address-changes 0)');

    const screenshot = join(dir, 'report.png');
    await tab.screenshot({ path: screenshot, fullPage: true });
    t.ok(existsSync(screenshot));
    t.comment(`screenshot: ${screenshot}`);
  },
);

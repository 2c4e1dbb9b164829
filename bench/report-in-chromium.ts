// A rendered report page as a person sees it: Debian's Chromium, headless (driven by
// playwright-core), opens the file; every request the page makes other than for itself is
// refused and listed. Per chart: the size it was drawn at and its mark groups with something in
// them. Shared by the page's test and the scale-out benchmark; needs the dev dependencies.
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface DrawnChart {
  name: string | null;
  width: number;
  height: number;
  marks: number;
}

export interface OpenedReport {
  browser: Browser;
  tab: Page;
  charts: DrawnChart[];
  /** Every URL the page asked for, itself first. */
  requests: string[];
  loadMs: number;
}

/** Opens `file` in a new headless Chromium; the caller closes `browser`. */
export async function openReportInChromium(file: string, executablePath = CHROMIUM): Promise<OpenedReport> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, args: ARGS, timeout: 60_000 });
  try {
    const tab = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const url = pathToFileURL(file).href;
    const requests: string[] = [];
    tab.on('request', (request) => requests.push(request.url()));
    // Were the page to ask for anything else, it would be refused, not fetched.
    await tab.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
    const started = Date.now();
    await tab.goto(url, { waitUntil: 'load', timeout: 120_000 });
    const loadMs = Date.now() - started;
    const charts = await tab.$$eval('figure[data-chart]', (figures) =>
      figures.map((figure) => {
        const svg = figure.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        const marks = [...(svg?.querySelectorAll('g.role-mark') ?? [])].filter((g) => g.querySelector('path, line, rect, text') !== null).length;
        return { name: figure.getAttribute('data-chart'), width: Math.round(box?.width ?? 0), height: Math.round(box?.height ?? 0), marks };
      }),
    );
    return { browser, tab, charts, requests, loadMs };
  } catch (error) {
    await browser.close();
    throw error;
  }
}

// aegisd's page performance measurement, shared by the crawler, the executor and the
// exported tests. Added as an init script, it observes the document from its start
// and defines window.__aegisPerformance with:
//   measure()                    -> Promise of the figures, once the page has settled
//   overBudget(budgets, earlier) -> Promise of {over, figures, again}: the figures over their
//          budgets in words ([] when none), the figures they were judged by, and whether
//          to measure again. Pass the previous answer's figures as `earlier` after reloading
//          the page (null the first time): each time figure counts at its lowest over the
//          loads, as a loaded machine only ever adds time, the other figures at the first
//          load's. `again` is true while only time figures are over and fewer than
//          MEASUREMENTS loads were measured: a real slowdown stays over on every load.
// Figures follow Lighthouse's definitions, measured with the Performance APIs:
//   ttfb   navigation start to the first byte of the document (redirects included), ms
//   fcp    first contentful paint, ms
//   lcp    the last largest-contentful-paint candidate, ms
//   cls    cumulative layout shift: the largest session window (shifts less than 1 s
//          apart, 5 s at most) of shifts without recent input
//   tbt    total blocking time: the part over 50 ms of every long task between FCP and
//          time to interactive, ms
//   transfer_bytes  the encoded (compressed) bodies of the document and its resources;
//          headers are left out, so that a resource the cache serves counts the same
//          (one the cache revalidated, a 304, counts 0: the crawl measures with the
//          cache off, as a run's fresh context loads a page)
//   requests  the document and its resources
// Time to interactive is the end of the last long task before the first quiet window of
// QUIET_MS without one, searched from FCP or the load event, whichever is later
// (Lighthouse waits for 5 s of CPU and network quiet). The page has settled once that
// window has passed; every figure counts what happened until then, so a page measured
// late gives the figures it gave when measured early.
(() => {
  if (window.__aegisPerformance) return;
  const QUIET_MS = 500;
  const PAINT_WAIT_MS = 2000;
  const MAX_WAIT_MS = 10000;
  const POLL_MS = 50;
  const BLOCKING_MS = 50;
  const seen = { fcp: null, lcps: [], shifts: [], tasks: [], resources: [] };
  const observers = [];
  const observe = (type, take) => {
    try {
      const observer = new PerformanceObserver((list) => list.getEntries().forEach(take));
      observer.observe({ type, buffered: true });
      observers.push([observer, take]);
    } catch (error) {
      // An entry type this browser does not know: its figure stays null.
    }
  };
  observe('paint', (entry) => {
    if (entry.name === 'first-contentful-paint') seen.fcp = entry.startTime;
  });
  observe('largest-contentful-paint', (entry) => seen.lcps.push(entry.startTime));
  observe('layout-shift', (entry) => {
    if (!entry.hadRecentInput) seen.shifts.push([entry.startTime, entry.value]);
  });
  observe('longtask', (entry) => seen.tasks.push([entry.startTime, entry.startTime + entry.duration]));
  // Chromium fetches /favicon.ico for every page that names no icon: not the page's request.
  const favicon = (entry) => entry.initiatorType === 'other' && new URL(entry.name).pathname === '/favicon.ico';
  observe('resource', (entry) => favicon(entry) || seen.resources.push(entry));
  const collect = () => observers.forEach(([observer, take]) => observer.takeRecords().forEach(take));
  const navigation = () => performance.getEntriesByType('navigation')[0] || null;
  const loaded = () => {
    const entry = navigation();
    return entry && entry.loadEventEnd > 0 ? entry.loadEventEnd : null;
  };

  // Time to interactive, and whether its quiet window has passed by now.
  const interactive = (now) => {
    let tti = Math.max(seen.fcp, loaded());
    const tasks = seen.tasks.slice().sort((a, b) => a[0] - b[0]);
    for (const [start, end] of tasks) {
      if (start - tti >= QUIET_MS) break;
      tti = Math.max(tti, end);
    }
    return { tti, settled: now - tti >= QUIET_MS };
  };

  const settle = async () => {
    const began = performance.now();
    for (;;) {
      collect();
      const now = performance.now();
      const load = loaded();
      if (load !== null) {
        const painted = seen.fcp !== null || now - load >= PAINT_WAIT_MS;
        if (painted && (seen.fcp === null || interactive(now).settled)) return;
      }
      if (now - began >= MAX_WAIT_MS) return;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };

  const layoutShift = (until) => {
    let worst = 0;
    let session = 0;
    let first = -Infinity;
    let last = -Infinity;
    for (const [start, value] of seen.shifts.slice().sort((a, b) => a[0] - b[0])) {
      if (start > until) break;
      if (start - last > 1000 || start - first > 5000) {
        session = 0;
        first = start;
      }
      session += value;
      last = start;
      worst = Math.max(worst, session);
    }
    return Math.round(worst * 10000) / 10000;
  };

  const blockingTime = (fcp, tti) => {
    let total = 0;
    for (const [start, end] of seen.tasks) {
      if (end < fcp || start > tti) continue;
      total += Math.max(0, Math.min(end, tti) - Math.max(start, fcp) - BLOCKING_MS);
    }
    return Math.round(total);
  };

  const measure = async () => {
    await settle();
    const doc = navigation();
    const fcp = seen.fcp;
    const { tti } = interactive(performance.now());
    const until = fcp === null ? performance.now() : tti + QUIET_MS;
    const lcps = seen.lcps.filter((time) => time <= until);
    const resources = seen.resources.filter((entry) => entry.startTime <= until);
    const entries = doc ? [doc, ...resources] : resources;
    const ms = (value) => (value === null ? null : Math.round(value));
    return {
      ttfb: doc ? ms(Math.max(doc.responseStart, 0)) : null,
      fcp: ms(fcp),
      lcp: lcps.length ? ms(lcps[lcps.length - 1]) : null,
      cls: layoutShift(until),
      tbt: fcp === null ? null : blockingTime(fcp, tti),
      transfer_bytes: entries.reduce((sum, entry) => sum + (entry.encodedBodySize || 0), 0),
      requests: entries.length,
    };
  };

  const UNITS = { ttfb: ' ms', fcp: ' ms', lcp: ' ms', tbt: ' ms', cls: '', transfer_bytes: ' bytes', requests: '' };
  const TIMES = ['ttfb', 'fcp', 'lcp', 'tbt'];
  const MEASUREMENTS = 3;
  const lowest = (a, b) => (a === null ? b : b === null ? a : Math.min(a, b));
  const overBudget = async (budgets, earlier) => {
    const now = await measure();
    const figures = earlier ? { ...earlier } : { ...now, loads: 0 };
    if (earlier) TIMES.forEach((name) => (figures[name] = lowest(earlier[name], now[name])));
    figures.loads += 1;
    const over = [];
    const names = [];
    for (const [name, budget] of Object.entries(budgets)) {
      const figure = figures[name];
      const unit = UNITS[name];
      const loads = TIMES.includes(name) && figures.loads > 1 ? figures.loads + ' loads' : '';
      if (figure === null || figure === undefined) {
        over.push(name + ' could not be measured' + (loads && ' on any of ' + loads) + ' (budget ' + budget + unit + ')');
      } else if (figure > budget) {
        over.push(name + ' is ' + figure + unit + (loads && ' at the lowest of ' + loads) + ', over its budget of ' + budget + unit);
      } else {
        continue;
      }
      names.push(name);
    }
    const again = names.length > 0 && names.every((name) => TIMES.includes(name)) && figures.loads < MEASUREMENTS;
    return { over, figures, again };
  };

  Object.defineProperty(window, '__aegisPerformance', { value: Object.freeze({ measure, overBudget }) });
})();

/**
 * Test helper: one series' value in a Prometheus text exposition (`/metrics`, `scrape()`), found by
 * its name and labels exactly as written (`name{label="v",...}`); NaN when the series is absent.
 */
export function seriesValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

/** The series of a client quota sensor: `name{user="…",client_id="…"}`. */
export function clientSeries(name: string, clientId: string, user = ''): string {
  return `${name}{user="${user}",client_id="${clientId}"}`;
}

// Renders the bench results as one self-contained HTML page: tables and inline SVG bar charts.
import { fmtMs, fmtRatio } from './stats.mjs'

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c])
const GROUP_COLOURS = { floor: '#8a8f98', dialect: '#2563eb', peer: '#ea580c', diagnostic: '#a3a3a3' }

/** A horizontal bar chart: one bar per row (median), a tick at p95. */
function barChart(title, rows, { unit = 'ms', higherIsBetter = false } = {}) {
  const items = rows.filter((r) => typeof r.value === 'number' && Number.isFinite(r.value))
  if (items.length === 0) return ''
  const max = Math.max(...items.map((r) => Math.max(r.value, r.p95 ?? 0)))
  const labelW = 270
  const barW = 430
  const rowH = 22
  const h = items.length * rowH + 34
  const x = (v) => labelW + (v / (max || 1)) * barW
  const fmt = (v) => (unit === 'ms' ? fmtMs(v) : `${Math.round(v)} ${unit}`)
  let body = ''
  items.forEach((r, i) => {
    const y = 26 + i * rowH
    const colour = GROUP_COLOURS[r.group] ?? '#555'
    body += `<text x="${labelW - 8}" y="${y + 14}" text-anchor="end" font-size="12">${esc(r.label)}</text>`
    body += `<rect x="${labelW}" y="${y + 3}" width="${Math.max(1, x(r.value) - labelW).toFixed(1)}" height="${rowH - 8}" fill="${colour}" rx="2"/>`
    if (typeof r.p95 === 'number' && r.p95 > r.value) {
      body += `<line x1="${x(r.value).toFixed(1)}" x2="${x(r.p95).toFixed(1)}" y1="${y + 10}" y2="${y + 10}" stroke="#111" stroke-width="1"/>`
      body += `<line x1="${x(r.p95).toFixed(1)}" x2="${x(r.p95).toFixed(1)}" y1="${y + 5}" y2="${y + 15}" stroke="#111" stroke-width="1.5"/>`
    }
    const ratio = typeof r.ratio === 'number' ? `  (${fmtRatio(r.ratio)})` : ''
    body += `<text x="${Math.min(x(Math.max(r.value, r.p95 ?? 0)) + 6, labelW + barW + 6).toFixed(1)}" y="${y + 14}" font-size="11" fill="#333">${esc(fmt(r.value) + ratio)}</text>`
  })
  const note = higherIsBetter ? 'higher is better' : `median; whisker: p95${unit === 'ms' ? '; ratio to raw' : ''}`
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 140}" height="${h}" role="img" aria-label="${esc(title)}">
<text x="4" y="16" font-size="13" font-weight="600">${esc(title)}</text><text x="${labelW + barW + 136}" y="16" font-size="11" text-anchor="end" fill="#666">${esc(note)}</text>${body}</svg></figure>`
}

function table(headers, rows) {
  return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c && typeof c === 'object' && c.html ? c.html : esc(c ?? '')}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`
}

export function renderHtml(results) {
  const { meta, contenders, workloads, targets } = results
  const byId = Object.fromEntries(contenders.map((c) => [c.id, c]))
  let html = `<!doctype html><html><head><meta charset="utf-8"><title>kysely-multitab-opfs bench ${esc(meta.date)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px;max-width:1100px;color:#111}table{border-collapse:collapse;margin:8px 0 20px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f5}td:first-child,th:first-child{text-align:left}td{vertical-align:top}.met{color:#15803d;font-weight:600}.missed{color:#b91c1c;font-weight:600}figure{margin:6px 0 18px}code{background:#f4f4f5;padding:0 3px}small{color:#666}td small{display:block;text-align:left;max-width:440px}</style></head><body>
<h1>kysely-multitab-opfs: bench</h1>
<p><small>${esc(meta.date)} · ${esc(meta.browser)} · ${esc(meta.profile)} · commit ${esc(meta.commit)}${meta.dirty ? ' (working tree has uncommitted changes)' : ''} · load average ${esc(meta.loadAverage.start.join(' / '))} at start, ${esc(meta.loadAverage.end.join(' / '))} at end on ${meta.cpus} cores · ${esc(meta.durationS)} s · config <code>${esc(JSON.stringify(results.config))}</code></small></p>
<p>Every contender runs in the same browser session, interleaved per round (order rotated each round). W1 figures are per call (block of N calls / N); W2, W3, W4 are the whole workload. Ratios are to <b>raw</b> (wa-sqlite in a DedicatedWorker, plain postMessage from the same tab).</p>`

  html += '<h2>Targets</h2>'
  html += table(
    ['target', 'measured', 'limit', 'verdict', 'why missed (floors measured in this run)'],
    targets.map((t) => [
      t.name,
      t.measured,
      t.limit,
      {
        html:
          t.met === undefined
            ? '-'
            : `<span class="${t.met ? 'met' : 'missed'}">${t.met ? 'met' : 'missed'}</span> ${esc(t.by ?? '')}`,
      },
      { html: `<small>${esc(t.why ?? '')}</small>` },
    ]),
  )

  html += '<h2>Workloads</h2>'
  for (const [wid, w] of Object.entries(workloads)) {
    const rows = contenders
      .filter((c) => w.results[c.id])
      .map((c) => ({
        label: c.label,
        group: c.group,
        value: w.results[c.id].metricMs,
        p95: w.perCall ? w.results[c.id].p95Ms : undefined,
        ratio: w.results[c.id].ratio,
      }))
    html += barChart(`${w.title}${w.perCall ? ' (per call)' : ''}`, rows)
  }
  html +=
    "<p>Cells: median (p95 per call) ratio to raw; for this dialect also the ratio to row 3 (raw + minimal Kysely: the same Kysely work, so the dialect's own share) and, for followers, to row 4 (the raw floor for any follower tab).</p>"
  html += table(
    ['contender', ...Object.values(workloads).map((w) => w.short)],
    contenders.map((c) => [
      c.label,
      ...Object.values(workloads).map((w) => {
        const r = w.results[c.id]
        if (!r) return ''
        return `${fmtMs(r.metricMs)}${w.perCall ? ` (p95 ${fmtMs(r.p95Ms)})` : ''} ${r.ratio !== undefined ? fmtRatio(r.ratio) : ''}${r.ratioToRawKysely !== undefined ? `; ${fmtRatio(r.ratioToRawKysely)} of row 3` : ''}${r.ratioToFollowerFloor !== undefined ? `; ${fmtRatio(r.ratioToFollowerFloor)} of row 4` : ''}`
      }),
    ]),
  )

  if (results.open) {
    html += '<h2>W5: open to first answer</h2>'
    html += barChart(
      'new database: first tab to first answer',
      results.open.rows.map((r) => ({ label: r.label, group: r.group, value: r.firstMs, p95: r.firstP95Ms })),
    )
    html += barChart(
      'second tab (follower join / own connection) to first answer',
      results.open.rows.map((r) => ({ label: r.label, group: r.group, value: r.secondMs, p95: r.secondP95Ms })),
    )
    html += table(
      ['contender', 'first tab median', 'p95', 'second tab median', 'p95', 'runs'],
      results.open.rows.map((r) => [
        r.label,
        fmtMs(r.firstMs),
        fmtMs(r.firstP95Ms),
        fmtMs(r.secondMs),
        fmtMs(r.secondP95Ms),
        r.runs,
      ]),
    )
  }
  if (results.mixed) {
    html += '<h2>Mixed read/write from 3 tabs at once</h2>'
    html += barChart(
      'throughput (4 point selects : 1 autocommit insert)',
      results.mixed.rows.map((r) => ({ label: r.label, group: r.group, value: r.opsPerS })),
      { unit: 'ops/s', higherIsBetter: true },
    )
    html += table(
      ['contender', 'ops/s (median)', 'reads/s', 'writes/s', 'p50 op', 'p95 op', 'errors'],
      results.mixed.rows.map((r) => [
        r.label,
        Math.round(r.opsPerS),
        Math.round(r.readsPerS),
        Math.round(r.writesPerS),
        fmtMs(r.p50Ms),
        fmtMs(r.p95Ms),
        `${r.errors}${r.firstError ? ` (${r.firstError})` : ''}`,
      ]),
    )
  }
  if (results.background) {
    html += `<h2>Background tabs (a Chromium of the bench's own, tabs really hidden)</h2>`
    html += table(
      ['tab switches', 'time on each tab', 'hand-offs (hiddenHandoffMs 2000)'],
      results.background.switches.map((s) => [s.switches, fmtMs(s.dwellMs), s.handoffs]),
    )
    if (results.background.frozen) {
      html +=
        '<p>The active tab frozen (hidden behind another tab, then frozen over CDP; it keeps its files): another tab&rsquo;s insert answered after</p>'
      html += table(
        ['database', 'coordinator', 'runs', 'p50', 'p95', 'max', 'hangTimeoutMs'],
        results.background.frozen.map((f) => [
          `${f.rows} rows of 1 KB`,
          // Under Web Locks the frozen tab hosts the coordinator too (older results: SharedWorker).
          f.coordinator ?? 'shared-worker',
          f.runs,
          fmtMs(f.p50Ms),
          fmtMs(f.p95Ms),
          fmtMs(f.maxMs),
          fmtMs(f.hangTimeoutMs),
        ]),
      )
    }
  }
  for (const [f, what] of [
    [results.failover, 'default options'],
    [results.failoverWarm, '<code>warmStandby: true</code>'],
  ]) {
    if (!f) continue
    html += `<h2>Failover, ${what} (active tab closed -> next query answered)</h2><p>${f.runs} runs: p50 ${fmtMs(f.p50Ms)}, p95 ${fmtMs(f.p95Ms)}, max ${fmtMs(f.maxMs)}. All: ${esc(f.allMs.join(', '))} ms</p>`
    const t = f.timelineMedianMs
    if (t) {
      html += '<p>Median timeline, ms after <code>page.close()</code> of the active tab:</p>'
      html += table(
        ['step', 'ms'],
        [
          ['survivor hears the active tab is gone (active-lost)', t.routeLostMs],
          ["new active tab's worker requests wa-sqlite.wasm", t.wasmRequestedMs],
          ['... has fetched it', t.wasmFetchedMs],
          ["... logs 'opened the database' (wasm compiled, OPFS pool and SQLite open)", t.openedMs],
          ['survivor gets the new route (active-changed)', t.newRouteMs],
          ["survivor's query answered", t.answeredMs],
        ],
      )
    }
  }
  if (results.heap) {
    html += '<h2>JS heap and wasm per tab</h2>'
    html += table(
      ['tab', 'page heap', 'worker heaps', 'wasm fetched'],
      results.heap.map((h) => [
        h.label,
        h.pageHeapMB !== undefined ? `${h.pageHeapMB.toFixed(2)} MB` : '-',
        h.workers.map((w) => `${w.url}: ${w.usedMB.toFixed(2)} MB`).join('; '),
        h.wasm.length ? h.wasm.join(', ') : 'none',
      ]),
    )
  }
  if (results.storage) {
    html += '<h2>Where the data lives</h2>'
    html += table(
      ['contender', 'OPFS files', 'OPFS bytes', 'IndexedDB', 'cross-origin isolated', 'pragmas', 'notes'],
      results.storage.map((s) => [
        s.label,
        s.opfsFiles,
        s.opfsBytes,
        s.indexedDb.join(', ') || 'none',
        String(s.crossOriginIsolated),
        s.pragmas,
        s.note ?? '',
      ]),
    )
  }
  if (results.breakdown) {
    html += '<h2>Breakdown (where the time goes)</h2>'
    html += table(
      [
        'step (ms per statement)',
        'select 1',
        'point select',
        '1-row insert in a transaction',
        '500-row insert in a transaction',
        'autocommit 1-row insert',
      ],
      results.breakdown.rows.map((r) => [
        r.label,
        fmtMs(r.select1),
        fmtMs(r.point),
        fmtMs(r.insert),
        fmtMs(r.batch),
        fmtMs(r.autocommit),
      ]),
    )
    if (results.breakdown.notes) html += `<ul>${results.breakdown.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`
  }
  html += `<h2>Contenders</h2>${table(
    ['id', 'label', 'what'],
    contenders.map((c) => [c.id, c.label, c.what]),
  )}`
  html += '</body></html>\n'
  void byId
  return html
}

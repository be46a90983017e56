// @ts-check
// The console's pages. Each view fills `main` and may return a refresh function the router calls
// every few seconds while the page is shown. Every number comes from the admin API.
import { api, enc } from './api.js';
import { lineChart, rates } from './chart.js';
import { bytes, duration, errorBox, h, modal, num, rate, time, toast } from './dom.js';

/** @typedef {{ refresh?: () => Promise<void> }} View */

const table = (/** @type {any[]} */ head, /** @type {any[]} */ rows, empty = 'Nothing here yet.') =>
  h(
    'div.table-wrap',
    null,
    h(
      'table',
      null,
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          head.map((c) => (typeof c === 'string' ? h('th', { scope: 'col' }, c) : c)),
        ),
      ),
      h('tbody', null, rows.length ? rows : h('tr', null, h('td.empty', { colspan: head.length }, empty))),
    ),
  );
const th = (/** @type {string} */ t) => h('th.num', { scope: 'col' }, t);
const td = (/** @type {any} */ v) => h('td.num', null, v);

// ---- overview -------------------------------------------------------------------------------------

/** @param {HTMLElement} main @returns {Promise<View>} */
export async function overview(main) {
  const body = h('div');
  main.replaceChildren(h('h1', null, 'Overview'), body);
  const refresh = async () => {
    const o = await api('/api/overview');
    const samples = [...o.samples, o.now];
    const msgIn = rates(samples, (x) => x.messagesIn);
    const msgOut = rates(samples, (x) => x.messagesOut);
    const bIn = rates(samples, (x) => x.bytesIn);
    const bOut = rates(samples, (x) => x.bytesOut);
    const lastRate = (/** @type {[number, number][]} */ r) => r[r.length - 1]?.[1] ?? 0;
    const card = (/** @type {string} */ label, /** @type {any} */ value, /** @type {any} */ sub = '') =>
      h('div.card', null, h('div.label', null, label), h('div.value', null, value), h('div.sub', null, sub));
    body.replaceChildren(
      h(
        'div.cards',
        null,
        card(
          'Brokers',
          num(o.brokers.length),
          o.brokers
            .map(
              (/** @type {any} */ b) =>
                `#${b.nodeId} ${b.host}:${b.port}${b.nodeId === o.controllerId ? ' (controller)' : ''}`,
            )
            .join(', '),
        ),
        card('Topics', num(o.topics), `${o.internalTopics} internal`),
        card('Partitions', num(o.partitions), `${o.underReplicatedPartitions} under-replicated`),
        card('Messages in /s', rate(lastRate(msgIn)), `${num(o.now.messagesIn)} since start`),
        card('Messages out /s', rate(lastRate(msgOut)), `${num(o.now.messagesOut)} since start`),
        card('Bytes in /s', bytes(lastRate(bIn)), `${bytes(o.now.bytesIn)} since start`),
        card('Bytes out /s', bytes(lastRate(bOut)), `${bytes(o.now.bytesOut)} since start`),
        card('Bytes on disk', bytes(o.now.bytesOnDisk), 'all partitions'),
        card('Connections', num(o.now.connections), 'Kafka clients'),
      ),
      h(
        'div.charts',
        null,
        lineChart(
          'Messages per second',
          [
            { name: 'in', points: msgIn },
            { name: 'out', points: msgOut },
          ],
          rate,
        ),
        lineChart(
          'Bytes per second',
          [
            { name: 'in', points: bIn },
            { name: 'out', points: bOut },
          ],
          bytes,
        ),
        lineChart(
          'Bytes on disk',
          [{ name: 'size', points: samples.map((x) => [x.t, x.bytesOnDisk]) }],
          bytes,
        ),
      ),
      h(
        'p.muted',
        null,
        `Samples every ${o.sampleIntervalMs / 1000} s from the counters /metrics exports; the broker keeps the last ${Math.round((o.sampleIntervalMs * 150) / 60000)} minutes.`,
      ),
    );
    const cl = document.getElementById('cluster');
    if (cl) cl.textContent = `cluster ${o.clusterId}`;
  };
  await refresh();
  return { refresh };
}

// ---- topics ---------------------------------------------------------------------------------------

/** @param {HTMLElement} main @returns {Promise<View>} */
export async function topics(main) {
  const filter = /** @type {HTMLInputElement} */ (
    h('input', {
      type: 'search',
      placeholder: 'Filter topics',
      'aria-label': 'Filter topics',
      'data-filter': true,
    })
  );
  const internal = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox' }));
  const list = h('div');
  main.replaceChildren(
    h(
      'h1',
      null,
      'Topics',
      h('button.primary', { type: 'button', onclick: () => createTopicDialog() }, 'Create topic'),
    ),
    h('div.toolbar', null, filter, h('label.inline', null, internal, 'Show internal topics')),
    list,
  );
  /** @type {any[]} */
  let all = [];
  const draw = () => {
    const f = filter.value.trim().toLowerCase();
    const shown = all.filter((t) => (internal.checked || !t.isInternal) && t.name.toLowerCase().includes(f));
    list.replaceChildren(
      table(
        [
          'Topic',
          th('Partitions'),
          th('Replication'),
          th('Size'),
          th('Offsets'),
          'Retention',
          'Cleanup policy',
        ],
        shown.map((t) =>
          h(
            'tr',
            null,
            h(
              'td',
              null,
              h('a', { href: `#/topics/${enc(t.name)}` }, t.name),
              t.isInternal ? h('span.badge', null, 'internal') : null,
            ),
            td(num(t.partitions.length)),
            td(num(t.replicationFactor)),
            td(bytes(t.sizeBytes)),
            td(num(t.offsets)),
            h('td', null, t.retentionMs === '-1' ? 'forever' : duration(Number(t.retentionMs))),
            h('td', null, t.cleanupPolicy),
          ),
        ),
        all.length ? 'No topic matches the filter.' : 'No topics yet: create one, or produce to a new name.',
      ),
    );
  };
  filter.addEventListener('input', draw);
  internal.addEventListener('change', draw);
  const refresh = async () => {
    all = (await api('/api/topics')).topics;
    draw();
  };
  await refresh();
  return { refresh };
}

function createTopicDialog() {
  const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
  const partitions = h('input', {
    name: 'partitions',
    type: 'number',
    min: 1,
    placeholder: 'broker default',
  });
  const rf = h('input', { name: 'rf', type: 'number', min: 1, placeholder: 'broker default' });
  const configs = h('textarea', {
    name: 'configs',
    rows: 4,
    placeholder: 'retention.ms=86400000\ncleanup.policy=compact',
  });
  const out = h('div');
  modal('Create topic', (close) => [
    h(
      'form.form',
      {
        onsubmit: async (/** @type {Event} */ e) => {
          e.preventDefault();
          out.replaceChildren();
          const v = (/** @type {any} */ el) => /** @type {HTMLInputElement} */ (el).value.trim();
          try {
            const body = { name: v(name), configs: parseLines(v(configs), '=') };
            if (v(partitions)) Object.assign(body, { partitions: Number(v(partitions)) });
            if (v(rf)) Object.assign(body, { replicationFactor: Number(v(rf)) });
            const res = await api('/api/topics', { method: 'POST', body });
            close();
            toast(`Created topic ${res.name} (${res.partitions} partitions)`);
            location.hash = `#/topics/${enc(res.name)}`;
          } catch (err) {
            out.replaceChildren(errorBox(err));
          }
        },
      },
      h('label', null, 'Name', name),
      h(
        'div.row',
        null,
        h('label', null, 'Partitions', partitions),
        h('label', null, 'Replication factor', rf),
      ),
      h('label', null, 'Configs (one name=value a line)', configs),
      out,
      h(
        'div.actions',
        null,
        h('button', { type: 'button', onclick: close }, 'Cancel'),
        h('button.primary', { type: 'submit' }, 'Create'),
      ),
    ),
  ]);
}

/** "a=b" lines → {a: "b"} @param {string} text @param {string} sep */
function parseLines(text, sep) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const i = line.indexOf(sep);
    if (i <= 0) throw new Error(`"${line.trim()}" is not name${sep}value`);
    out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

// ---- one topic ------------------------------------------------------------------------------------

/** @param {HTMLElement} main @param {string} name @param {string} tab @param {URLSearchParams} q @returns {Promise<View>} */
export async function topic(main, name, tab, q) {
  const t = await api(`/api/topics/${enc(name)}`);
  const tabs = ['records', 'produce', 'partitions', 'configs'];
  const current = tabs.includes(tab) ? tab : 'records';
  const body = h('div');
  main.replaceChildren(
    h('div.crumbs', null, h('a', { href: '#/topics' }, 'Topics'), ' / '),
    h(
      'h1',
      null,
      t.name,
      t.isInternal ? h('span.badge', null, 'internal') : null,
      h('span.spacer'),
      t.isInternal
        ? null
        : h('button', { type: 'button', onclick: () => addPartitionsDialog(t) }, 'Add partitions'),
      t.isInternal
        ? null
        : h('button.danger', { type: 'button', onclick: () => deleteTopicDialog(t.name) }, 'Delete topic'),
    ),
    h(
      'nav.tabs',
      { 'aria-label': 'Topic' },
      tabs.map((x) =>
        h(
          'a',
          { href: `#/topics/${enc(name)}/${x}`, 'aria-current': x === current ? 'page' : undefined },
          x[0]?.toUpperCase() + x.slice(1),
        ),
      ),
    ),
    body,
  );
  if (current === 'partitions') {
    body.replaceChildren(
      table(
        [
          th('Partition'),
          th('Leader'),
          'Replicas',
          'ISR',
          th('Log start'),
          th('High watermark'),
          th('Log end'),
          th('Size'),
          th('Segments'),
        ],
        t.partitions.map((/** @type {any} */ p) =>
          h(
            'tr',
            null,
            td(h('a', { href: `#/topics/${enc(name)}/records?partition=${p.partition}` }, p.partition)),
            td(p.leader),
            h('td', null, p.replicas.join(', ')),
            h('td', null, p.isr.join(', ')),
            td(num(p.logStartOffset)),
            td(num(p.highWatermark)),
            td(num(p.logEndOffset)),
            td(bytes(p.sizeBytes)),
            td(num(p.segments)),
          ),
        ),
      ),
    );
    return {};
  }
  if (current === 'configs') return configsView(body, t);
  if (current === 'produce') return produceView(body, t);
  return recordsView(body, t, q);
}

/** @param {any} t */
function addPartitionsDialog(t) {
  const count = h('input', {
    type: 'number',
    min: t.partitions.length + 1,
    value: t.partitions.length + 1,
    required: true,
  });
  const out = h('div');
  modal(`Add partitions to ${t.name}`, (close) => [
    h(
      'form.form',
      {
        onsubmit: async (/** @type {Event} */ e) => {
          e.preventDefault();
          try {
            await api(`/api/topics/${enc(t.name)}/partitions`, {
              method: 'POST',
              body: { count: Number(/** @type {HTMLInputElement} */ (count).value) },
            });
            close();
            toast(`${t.name} now has ${/** @type {HTMLInputElement} */ (count).value} partitions`);
            window.dispatchEvent(new HashChangeEvent('hashchange'));
          } catch (err) {
            out.replaceChildren(errorBox(err));
          }
        },
      },
      h(
        'p.muted',
        null,
        `Currently ${t.partitions.length}. Partitions can only be added; keyed records may map to other partitions afterwards.`,
      ),
      h('label', null, 'New total number of partitions', count),
      out,
      h(
        'div.actions',
        null,
        h('button', { type: 'button', onclick: close }, 'Cancel'),
        h('button.primary', { type: 'submit' }, 'Add partitions'),
      ),
    ),
  ]);
}

/** @param {string} name */
function deleteTopicDialog(name) {
  const confirmInput = h('input', { 'aria-label': 'Type the topic name to confirm', autocomplete: 'off' });
  const out = h('div');
  modal(`Delete topic ${name}?`, (close) => [
    h(
      'form.form',
      {
        onsubmit: async (/** @type {Event} */ e) => {
          e.preventDefault();
          if (/** @type {HTMLInputElement} */ (confirmInput).value !== name) {
            out.replaceChildren(errorBox('Type the topic name to confirm.'));
            return;
          }
          try {
            await api(`/api/topics/${enc(name)}`, { method: 'DELETE' });
            close();
            toast(`Deleted topic ${name}`);
            location.hash = '#/topics';
          } catch (err) {
            out.replaceChildren(errorBox(err));
          }
        },
      },
      h(
        'p',
        null,
        'Every record of every partition is removed. Type ',
        h('code', null, name),
        ' to confirm.',
      ),
      confirmInput,
      out,
      h(
        'div.actions',
        null,
        h('button', { type: 'button', onclick: close }, 'Cancel'),
        h('button.danger', { type: 'submit' }, 'Delete'),
      ),
    ),
  ]);
}

/** @param {HTMLElement} body @param {any} t @returns {Promise<View>} */
async function configsView(body, t) {
  const { configs } = await api(`/api/topics/${enc(t.name)}/configs`);
  const out = h('div');
  const rows = configs.map((/** @type {any} */ c) => {
    const input = /** @type {HTMLInputElement} */ (
      h('input', {
        value: c.value ?? '',
        'aria-label': c.name,
        size: 24,
        disabled: c.readOnly || t.isInternal,
      })
    );
    const save = async () => {
      out.replaceChildren();
      try {
        await api(`/api/topics/${enc(t.name)}/configs`, {
          method: 'PATCH',
          body: { set: { [c.name]: input.value } },
        });
        toast(`${c.name} = ${input.value}`);
        window.dispatchEvent(new HashChangeEvent('hashchange'));
      } catch (err) {
        out.replaceChildren(errorBox(err));
        input.focus();
      }
    };
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') save();
    });
    return h(
      'tr',
      null,
      h('td', { title: c.documentation ?? '' }, h('code', null, c.name)),
      h('td', null, input),
      h(
        'td',
        null,
        h(
          `span.badge${c.source === 'DYNAMIC_TOPIC_CONFIG' ? '.ok' : ''}`,
          null,
          c.source.toLowerCase().replaceAll('_', ' '),
        ),
      ),
      h(
        'td',
        null,
        c.readOnly || t.isInternal ? null : h('button', { type: 'button', onclick: save }, 'Save'),
        c.source === 'DYNAMIC_TOPIC_CONFIG' && !t.isInternal
          ? h(
              'button.ghost',
              {
                type: 'button',
                onclick: async () => {
                  try {
                    await api(`/api/topics/${enc(t.name)}/configs`, {
                      method: 'PATCH',
                      body: { delete: [c.name] },
                    });
                    toast(`${c.name} back to the default`);
                    window.dispatchEvent(new HashChangeEvent('hashchange'));
                  } catch (err) {
                    out.replaceChildren(errorBox(err));
                  }
                },
              },
              'Reset to default',
            )
          : null,
      ),
    );
  });
  body.replaceChildren(
    h(
      'p.muted',
      null,
      'Overrides are marked dynamic topic config; the rest come from the broker. Enter or Save applies one value (IncrementalAlterConfigs, validated as Kafka does).',
    ),
    out,
    table(['Config', 'Value', 'Source', ''], rows),
  );
  return {};
}

/** @param {HTMLElement} body @param {any} t @returns {View} */
function produceView(body, t) {
  const partition = h(
    'select',
    { name: 'partition' },
    h('option', { value: '' }, 'by key (murmur2), else round robin'),
    t.partitions.map((/** @type {any} */ p) =>
      h('option', { value: p.partition }, `partition ${p.partition}`),
    ),
  );
  const key = h('input', { name: 'key', autocomplete: 'off', placeholder: 'none (null key)' });
  const value = h('textarea', { name: 'value', rows: 6, placeholder: '{"hello": "world"}' });
  const headers = h('textarea', { name: 'headers', rows: 3, placeholder: 'trace-id: abc123' });
  const out = h('div', { 'aria-live': 'polite' });
  const v = (/** @type {any} */ el) => /** @type {HTMLInputElement} */ (el).value;
  body.replaceChildren(
    h(
      'form.form',
      {
        onsubmit: async (/** @type {Event} */ e) => {
          e.preventDefault();
          out.replaceChildren();
          try {
            const hdrs = Object.entries(parseLines(v(headers), ':')).map(([k, x]) => ({ key: k, value: x }));
            /** @type {Record<string, unknown>} */
            const req = { key: v(key) === '' ? null : v(key), value: v(value), headers: hdrs };
            if (v(partition) !== '') req.partition = Number(v(partition));
            const res = await api(`/api/topics/${enc(t.name)}/records`, { method: 'POST', body: req });
            out.replaceChildren(
              h(
                'div.notice',
                null,
                `Produced to partition ${res.partition} at offset ${res.offset}. `,
                h(
                  'a',
                  {
                    href: `#/topics/${enc(t.name)}/records?partition=${res.partition}&from=offset&offset=${res.offset}`,
                  },
                  'Show it',
                ),
              ),
            );
          } catch (err) {
            out.replaceChildren(errorBox(err));
          }
        },
      },
      h('div.row', null, h('label', null, 'Partition', partition), h('label', null, 'Key (text)', key)),
      h('label', null, 'Value (text or JSON; empty string is an empty value)', value),
      h('label', null, 'Headers (one name: value a line)', headers),
      out,
      h('div', null, h('button.primary', { type: 'submit' }, 'Produce')),
    ),
  );
  return {};
}

/** @param {any} f */
function field(f) {
  if (f === null) return h('span.muted', null, 'null');
  let text = f.data;
  if (f.format === 'json') {
    try {
      const parsed = JSON.parse(f.data);
      const compact = JSON.stringify(parsed);
      text = compact.length <= 80 ? compact : JSON.stringify(parsed, null, 2);
    } catch {
      // shown as sent
    }
  }
  if (f.format === 'hex') text = text.replace(/(.{2})/g, '$1 ').trim();
  return [
    h('span.badge.fmt', { title: `${num(f.size)} bytes` }, f.format),
    f.truncated ? h('span.badge.warn', null, `first ${bytes(16 * 1024)} of ${bytes(f.size)}`) : null,
    h('pre', null, text),
  ];
}

/** @param {HTMLElement} body @param {any} t @param {URLSearchParams} q @returns {Promise<View>} */
async function recordsView(body, t, q) {
  const partition = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { 'aria-label': 'Partition' },
      h('option', { value: 'all' }, 'all partitions'),
      t.partitions.map((/** @type {any} */ p) =>
        h('option', { value: p.partition }, `partition ${p.partition}`),
      ),
    )
  );
  partition.value = q.get('partition') ?? 'all';
  if (!partition.value) partition.value = 'all';
  const from = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { 'aria-label': 'From' },
      [
        ['end', 'newest'],
        ['start', 'oldest'],
        ['offset', 'offset'],
        ['timestamp', 'timestamp'],
      ].map(([v, l]) => h('option', { value: v }, l)),
    )
  );
  from.value = q.get('from') ?? 'end';
  const offsetOption = /** @type {HTMLOptionElement} */ (from.querySelector('option[value=offset]'));
  const offset = /** @type {HTMLInputElement} */ (
    h('input', {
      type: 'number',
      min: 0,
      'aria-label': 'Offset',
      placeholder: 'offset',
      value: q.get('offset') ?? '',
      size: 10,
    })
  );
  const ts = /** @type {HTMLInputElement} */ (
    h('input', { type: 'datetime-local', step: 1, 'aria-label': 'Timestamp' })
  );
  const limit = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { 'aria-label': 'Records per page' },
      [20, 50, 100, 200, 500].map((n) => h('option', { value: n }, `${n} a page`)),
    )
  );
  limit.value = q.get('limit') ?? '50';
  const key = /** @type {HTMLInputElement} */ (
    h('input', {
      type: 'search',
      placeholder: 'exact key',
      'aria-label': 'Search by key',
      'data-filter': true,
      value: q.get('key') ?? '',
    })
  );
  const control = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox' }));
  const out = h('div');
  const syncInputs = () => {
    // Offsets are per partition: across partitions a page starts at the start, the end or a time.
    const all = partition.value === 'all';
    offsetOption.disabled = all;
    if (all && from.value === 'offset') from.value = 'start';
    offset.hidden = from.value !== 'offset';
    ts.hidden = from.value !== 'timestamp';
  };
  from.addEventListener('change', syncInputs);
  partition.addEventListener('change', syncInputs);
  syncInputs();

  /** @param {Record<string, string>} params */
  const load = async (params) => {
    const qs = new URLSearchParams({ limit: limit.value, ...params });
    if (key.value) qs.set('key', key.value);
    if (control.checked) qs.set('control', 'true');
    const all = partition.value === 'all';
    out.replaceChildren(h('p.muted', null, 'Loading…'));
    try {
      const path = all
        ? `/api/topics/${enc(t.name)}/records?${qs}`
        : `/api/topics/${enc(t.name)}/partitions/${partition.value}/records?${qs}`;
      const page = await api(path);
      out.replaceChildren(...(all ? mergedPageView(page, load) : pageView(page, load)));
    } catch (err) {
      out.replaceChildren(errorBox(err));
    }
  };
  const submit = () => {
    /** @type {Record<string, string>} */
    const params = { from: from.value };
    if (from.value === 'offset') params.offset = offset.value;
    if (from.value === 'timestamp') params.timestamp = ts.value ? String(new Date(ts.value).getTime()) : '';
    load(params);
  };
  body.replaceChildren(
    h(
      'form.toolbar',
      {
        onsubmit: (/** @type {Event} */ e) => {
          e.preventDefault();
          submit();
        },
      },
      h('label', null, 'Partition', partition),
      h('label', null, 'From', from),
      offset,
      ts,
      h('label', null, 'Page', limit),
      h('label', null, 'Key', key),
      h('label.inline', null, control, 'Control records'),
      h('button.primary', { type: 'submit' }, 'Show'),
    ),
    out,
  );
  submit();
  return {};
}

/** One record as a table row; `partition` adds its partition's cell (pages across partitions). */
function recordRow(/** @type {any} */ r, partition = false) {
  return h(
    `tr${r.aborted ? '.aborted' : ''}`,
    { 'data-offset': r.offset, 'data-partition': partition ? r.partition : undefined },
    partition ? td(r.partition) : null,
    td(num(r.offset)),
    h('td.mono', { title: r.timestampType }, time(r.timestamp)),
    h('td', null, r.control ? h('span.badge', null, `${r.control} marker`) : field(r.key)),
    h('td', null, r.control ? null : field(r.value)),
    h(
      'td',
      null,
      r.headers.map((/** @type {any} */ x) =>
        h(
          'div',
          null,
          h('code', null, x.key),
          ': ',
          x.value === null ? 'null' : x.value.format === 'hex' ? `0x${x.value.data}` : x.value.data,
        ),
      ),
    ),
    h(
      'td',
      null,
      r.compression !== 'none' ? h('span.badge', null, r.compression) : null,
      r.transactional && !r.control ? h('span.badge', null, 'transactional') : null,
      r.aborted ? h('span.badge.bad', null, 'aborted') : null,
      r.pending ? h('span.badge.warn', null, 'open transaction') : null,
    ),
  );
}

/**
 * Older / Newer / Newest buttons; focus stays on the one pressed once the new page is drawn.
 * @param {{ older: (() => Promise<void>) | null, newer: (() => Promise<void>) | null, newest: () => Promise<void> }} go
 */
function pager(go) {
  /** @param {string} label @param {(() => Promise<void>) | null} fn */
  const button = (label, fn) =>
    h(
      'button',
      {
        type: 'button',
        'data-pager': label,
        disabled: fn === null,
        onclick: async () => {
          if (!fn) return;
          await fn();
          // The buttons are drawn anew: keep the focus on this one, or on the other way at an end.
          const buttons = [...document.querySelectorAll('button[data-pager]')];
          const again = buttons.find((b) => b.getAttribute('data-pager') === label);
          const next =
            again instanceof HTMLButtonElement && !again.disabled
              ? again
              : buttons.find((b) => b instanceof HTMLButtonElement && !b.disabled);
          if (next instanceof HTMLElement) next.focus();
        },
      },
      label,
    );
  return h(
    'div.pager',
    null,
    button('← Older', go.older),
    button('Newer →', go.newer),
    h('button.ghost', { type: 'button', onclick: go.newest }, 'Newest'),
  );
}

/** @param {any} page @param {(p: Record<string, string>) => Promise<void>} load */
function pageView(page, load) {
  const first = page.records[0]?.offset ?? page.startOffset;
  return [
    h(
      'p.muted',
      null,
      `Partition ${page.partition}: offsets ${num(page.logStartOffset)} to ${num(page.highWatermark - 1)} (high watermark ${num(page.highWatermark)}, last stable ${num(page.lastStableOffset)}). `,
      page.records.length
        ? `Showing ${num(page.records.length)} from offset ${num(first)}; ${bytes(page.scannedBytes)} read.`
        : 'No records here.',
      page.scanLimitReached ? ` Reading stopped after ${bytes(page.scannedBytes)}: page on to continue.` : '',
    ),
    table(
      [th('Offset'), 'Timestamp', 'Key', 'Value', 'Headers', ''],
      page.records.map((/** @type {any} */ r) => recordRow(r)),
      'No records in this range.',
    ),
    pager({
      // The page before is the records just below this one's start, counted exactly by the broker.
      older:
        page.startOffset > page.logStartOffset
          ? () => load({ from: 'before', offset: String(page.startOffset) })
          : null,
      newer:
        page.nextOffset < page.highWatermark
          ? () => load({ from: 'offset', offset: String(page.nextOffset) })
          : null,
      newest: () => load({ from: 'end' }),
    }),
  ];
}

/** A page across partitions, merged by timestamp. @param {any} page @param {(p: Record<string, string>) => Promise<void>} load */
function mergedPageView(page, load) {
  const total = page.partitions.reduce(
    (/** @type {number} */ n, /** @type {any} */ p) => n + Math.max(0, p.highWatermark - p.logStartOffset),
    0,
  );
  const from = new Set(page.records.map((/** @type {any} */ r) => r.partition));
  return [
    h(
      'p.muted',
      null,
      `All ${page.partitions.length} partitions (${num(total)} offsets below the high watermarks), merged by timestamp. `,
      page.records.length
        ? `Showing ${num(page.records.length)} from ${from.size} partition(s); ${bytes(page.scannedBytes)} read.`
        : 'No records here.',
      page.scanLimitReached ? ` Reading stopped after ${bytes(page.scannedBytes)}: page on to continue.` : '',
    ),
    table(
      [th('Partition'), th('Offset'), 'Timestamp', 'Key', 'Value', 'Headers', ''],
      page.records.map((/** @type {any} */ r) => recordRow(r, true)),
      'No records in this range.',
    ),
    pager({
      older: page.hasOlder ? () => load({ from: 'before', cursor: page.startCursor }) : null,
      newer: page.hasNewer ? () => load({ from: 'after', cursor: page.endCursor }) : null,
      newest: () => load({ from: 'end' }),
    }),
  ];
}

// ---- groups ---------------------------------------------------------------------------------------

/** @param {HTMLElement} main @returns {Promise<View>} */
export async function groups(main) {
  const list = h('div');
  main.replaceChildren(h('h1', null, 'Consumer groups'), list);
  const refresh = async () => {
    const { groups: gs } = await api('/api/groups');
    list.replaceChildren(
      table(
        ['Group', 'State', 'Protocol', th('Members'), th('Partitions committed'), th('Total lag')],
        gs.map((/** @type {any} */ g) =>
          h(
            'tr',
            null,
            h('td', null, h('a', { href: `#/groups/${enc(g.groupId)}` }, g.groupId)),
            h('td', null, stateBadge(g.state)),
            h('td', null, g.protocolType ? `${g.protocolType}${g.protocol ? ` / ${g.protocol}` : ''}` : '—'),
            td(num(g.members.length)),
            td(num(g.offsets.length)),
            td(num(g.totalLag)),
          ),
        ),
        'No consumer groups yet.',
      ),
    );
  };
  await refresh();
  return { refresh };
}

/** @param {string} state */
function stateBadge(state) {
  const cls = state === 'Stable' ? '.ok' : state === 'Empty' || state === 'Dead' ? '' : '.warn';
  return h(`span.badge${cls}`, null, state);
}

/**
 * Total lag samples per group, kept for the page's life so a group's chart survives re-renders (a
 * reset, a config change, leaving and coming back): at most LAG_SAMPLES per group (5 minutes at
 * the 2 s refresh) and LAG_GROUPS groups, the least recently shown dropped first.
 * @type {Map<string, [number, number][]>}
 */
const lagHistory = new Map();
const LAG_SAMPLES = 150;
const LAG_GROUPS = 20;

/** @param {string} id @returns {[number, number][]} */
function lagSamples(id) {
  const series = lagHistory.get(id) ?? [];
  lagHistory.delete(id);
  lagHistory.set(id, series);
  while (lagHistory.size > LAG_GROUPS) {
    const oldest = lagHistory.keys().next().value;
    if (oldest === undefined) break;
    lagHistory.delete(oldest);
  }
  return series;
}

/** @param {HTMLElement} main @param {string} id @returns {Promise<View>} */
export async function group(main, id) {
  const summary = h('div');
  const chart = h('div');
  const info = h('div');
  const lagSeries = lagSamples(id);
  let state = '';
  main.replaceChildren(
    h('div.crumbs', null, h('a', { href: '#/groups' }, 'Consumer groups'), ' / '),
    h(
      'h1',
      null,
      id,
      h('span.spacer'),
      h('button', { type: 'button', onclick: () => resetDialog(id, state) }, 'Reset offsets'),
      h('button.danger', { type: 'button', onclick: () => deleteGroupDialog(id) }, 'Delete group'),
    ),
    h(
      'div.group-head',
      null,
      summary,
      h('div', null, chart, h('p.muted', null, 'Sampled every 2 s while this console shows the group.')),
    ),
    info,
  );
  const refresh = async () => {
    let g;
    try {
      g = await api(`/api/groups/${enc(id)}`);
    } catch (err) {
      info.replaceChildren(errorBox(err));
      return;
    }
    state = g.state;
    lagSeries.push([Date.now(), g.totalLag]);
    if (lagSeries.length > LAG_SAMPLES) lagSeries.splice(0, lagSeries.length - LAG_SAMPLES);
    summary.replaceChildren(
      h(
        'dl.kv',
        null,
        h('dt', null, 'State'),
        h('dd', { 'data-testid': 'group-state' }, stateBadge(g.state)),
        h('dt', null, 'Protocol'),
        h('dd', null, g.protocolType ? `${g.protocolType} / ${g.protocol || '—'}` : '—'),
        h('dt', null, 'Generation'),
        h('dd', null, String(g.generationId)),
        h('dt', null, 'Total lag'),
        h('dd', { 'data-testid': 'total-lag' }, num(g.totalLag)),
      ),
    );
    info.replaceChildren(
      h('h2', null, `Members (${g.members.length})`),
      table(
        ['Member', 'Client id', 'Host', 'Assigned partitions'],
        g.members.map((/** @type {any} */ m) =>
          h(
            'tr',
            null,
            h('td.mono', null, m.memberId, m.memberId === g.leader ? h('span.badge', null, 'leader') : null),
            h('td', null, m.clientId),
            h('td', null, m.clientHost),
            h(
              'td',
              null,
              m.assignment.map((/** @type {any} */ a) =>
                h('div', null, `${a.topic}: ${a.partitions.join(', ')}`),
              ),
            ),
          ),
        ),
        'No members: the group is empty.',
      ),
      h('h2', null, 'Committed offsets and lag'),
      table(
        ['Topic', th('Partition'), th('Committed offset'), th('High watermark'), th('Lag')],
        [...g.lag]
          .sort(
            (/** @type {any} */ a, /** @type {any} */ b) =>
              a.topic.localeCompare(b.topic) || a.partition - b.partition,
          )
          .map((/** @type {any} */ l) =>
            h(
              'tr',
              null,
              h('td', null, h('a', { href: `#/topics/${enc(l.topic)}` }, l.topic)),
              td(l.partition),
              td(num(l.committedOffset)),
              td(num(l.highWatermark)),
              td(num(l.lag)),
            ),
          ),
        'No committed offsets.',
      ),
    );
    chart.replaceChildren(lineChart('Total lag', [{ name: 'lag', points: lagSeries }], num));
  };
  await refresh();
  return { refresh };
}

/** @param {string} id @param {string} state */
function resetDialog(id, state) {
  const to = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { name: 'to' },
      ['earliest', 'latest', 'timestamp', 'offset'].map((x) => h('option', { value: x }, x)),
    )
  );
  const ts = /** @type {HTMLInputElement} */ (h('input', { type: 'datetime-local', step: 1 }));
  const off = /** @type {HTMLInputElement} */ (h('input', { type: 'number', min: 0 }));
  const topicInput = /** @type {HTMLInputElement} */ (
    h('input', { placeholder: 'every topic with committed offsets' })
  );
  const out = h('div');
  const sync = () => {
    /** @type {HTMLElement} */ (ts.parentElement).hidden = to.value !== 'timestamp';
    /** @type {HTMLElement} */ (off.parentElement).hidden = to.value !== 'offset';
  };
  to.addEventListener('change', sync);
  modal(`Reset offsets of ${id}`, (close) => [
    h(
      'form.form',
      {
        onsubmit: async (/** @type {Event} */ e) => {
          e.preventDefault();
          /** @type {Record<string, unknown>} */
          const body = { to: to.value };
          if (to.value === 'timestamp') body.timestamp = ts.value ? new Date(ts.value).getTime() : '';
          if (to.value === 'offset') body.offset = off.value === '' ? '' : Number(off.value);
          if (topicInput.value.trim()) body.topic = topicInput.value.trim();
          try {
            const res = await api(`/api/groups/${enc(id)}/reset-offsets`, { method: 'POST', body });
            close();
            toast(`Reset ${res.offsets.length} partition(s) of ${id}`);
            window.dispatchEvent(new HashChangeEvent('hashchange'));
          } catch (err) {
            out.replaceChildren(errorBox(err));
          }
        },
      },
      h(
        'p.muted',
        null,
        `As kafka-consumer-groups --reset-offsets: only an inactive (Empty) group can be reset. Current state: ${state || 'unknown'}.`,
      ),
      h('label', null, 'Reset to', to),
      h('label', null, 'Timestamp', ts),
      h('label', null, 'Offset (clamped to each partition\u2019s range)', off),
      h('label', null, 'Topic', topicInput),
      out,
      h(
        'div.actions',
        null,
        h('button', { type: 'button', onclick: close }, 'Cancel'),
        h('button.primary', { type: 'submit' }, 'Reset'),
      ),
    ),
  ]);
  sync();
}

/** @param {string} id */
function deleteGroupDialog(id) {
  const out = h('div');
  modal(`Delete group ${id}?`, (close) => [
    h(
      'p',
      null,
      'The group and its committed offsets are removed. Only a group without members can be deleted.',
    ),
    out,
    h(
      'div.actions',
      null,
      h('button', { type: 'button', onclick: close }, 'Cancel'),
      h(
        'button.danger',
        {
          type: 'button',
          onclick: async () => {
            try {
              await api(`/api/groups/${enc(id)}`, { method: 'DELETE' });
              close();
              toast(`Deleted group ${id}`);
              location.hash = '#/groups';
            } catch (err) {
              out.replaceChildren(errorBox(err));
            }
          },
        },
        'Delete',
      ),
    ),
  ]);
}

// ---- transactions ---------------------------------------------------------------------------------

/** @param {HTMLElement} main @returns {Promise<View>} */
export async function transactions(main) {
  const body = h('div');
  main.replaceChildren(h('h1', null, 'Transactions and producers'), body);
  const refresh = async () => {
    const res = await api('/api/transactions');
    body.replaceChildren(
      h('h2', null, 'Transactional ids'),
      table(
        ['Transactional id', 'State', th('Producer id'), th('Epoch'), 'Age', 'Timeout', 'Partitions'],
        res.transactions.map((/** @type {any} */ t) =>
          h(
            'tr',
            null,
            h('td', null, t.transactionalId),
            h('td', null, h(`span.badge${t.state === 'Ongoing' ? '.warn' : ''}`, null, t.state)),
            td(t.producerId),
            td(t.producerEpoch),
            h('td', null, t.ageMs === null ? '—' : duration(t.ageMs)),
            h('td', null, duration(t.timeoutMs)),
            h(
              'td',
              null,
              t.partitions.map((/** @type {any} */ p) => `${p.topic}-${p.partition}`).join(', ') || '—',
            ),
          ),
        ),
        'No transactional producers yet.',
      ),
      h('h2', null, 'Active producers (idempotent and transactional)'),
      table(
        [
          'Topic',
          th('Partition'),
          th('Producer id'),
          th('Epoch'),
          th('Last sequence'),
          'Last write',
          'Open transaction from',
        ],
        res.producers.map((/** @type {any} */ p) =>
          h(
            'tr',
            null,
            h('td', null, h('a', { href: `#/topics/${enc(p.topic)}` }, p.topic)),
            td(p.partition),
            td(p.producerId),
            td(p.producerEpoch),
            td(p.lastSequence),
            h('td.mono', null, time(p.lastTimestamp)),
            h('td', null, p.currentTxnStartOffset >= 0 ? `offset ${num(p.currentTxnStartOffset)}` : '—'),
          ),
        ),
        'No idempotent or transactional producer has written yet.',
      ),
    );
  };
  await refresh();
  return { refresh };
}

// The dashboard: one self-contained page that reads the JSON API from the same origin, so it
// needs no build step and no assets. It shows routers with their errors, services with their
// servers' health, certificates, and an explain form for "where did my request go?".

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Berth dashboard</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2430; background: #f5f6f8; }
  header { background: #1d2430; color: #fff; padding: 10px 20px; display: flex; gap: 24px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  main { padding: 16px 20px; display: grid; gap: 16px; }
  section { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 2px #0002; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e4e7eb; vertical-align: top; }
  code { font: 12px ui-monospace, monospace; }
  .status-enabled, .UP { color: #18794e; }
  .status-warning { color: #a35200; }
  .status-disabled, .DOWN { color: #c62828; font-weight: 600; }
  .problem { color: #c62828; white-space: pre-wrap; font: 12px ui-monospace, monospace; }
  .warning { color: #a35200; white-space: pre-wrap; font: 12px ui-monospace, monospace; }
  .counts span { margin-right: 16px; }
  form { display: flex; gap: 8px; flex-wrap: wrap; }
  input { padding: 4px 6px; font: inherit; }
  input[name=url] { flex: 1; min-width: 280px; }
  pre { background: #f5f6f8; padding: 8px; overflow: auto; max-height: 360px; }
</style>
</head>
<body>
<header><h1>Berth</h1><span id="version"></span><span id="providers"></span></header>
<main>
  <section><h2>Overview</h2><div class="counts" id="overview">Loading…</div></section>
  <section>
    <h2>Where did my request go?</h2>
    <form id="explain">
      <input name="url" placeholder="http://app.example.com/path" required>
      <input name="method" value="GET" size="7">
      <input name="entrypoint" placeholder="entry point (optional)">
      <button type="submit">Explain</button>
    </form>
    <pre id="explain-result" hidden></pre>
  </section>
  <section><h2>Routers</h2><table id="routers"><thead><tr><th>Name</th><th>Rule</th><th>Entry points</th><th>Priority</th><th>Service</th><th>Status</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Services</h2><table id="services"><thead><tr><th>Name</th><th>Servers</th><th>Used by</th><th>Status</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Certificates</h2><table id="certificates"><thead><tr><th>Names</th><th>Source</th><th>Expires</th><th>Status</th></tr></thead><tbody></tbody></table></section>
</main>
<script>
'use strict';
function text(value) { return document.createTextNode(value === undefined || value === null ? '' : String(value)); }
function cell(row, content, className) {
  const td = document.createElement('td');
  if (className) td.className = className;
  if (content instanceof Node) td.appendChild(content); else td.appendChild(text(content));
  row.appendChild(td);
  return td;
}
function lines(values, className) {
  const box = document.createElement('div');
  for (const value of values || []) {
    const line = document.createElement('div');
    if (className) line.className = className;
    line.appendChild(text(value));
    box.appendChild(line);
  }
  return box;
}
async function getJson(path) {
  const response = await fetch(path, { cache: 'no-store' });
  if (!response.ok) throw new Error(path + ' returned ' + response.status);
  return response.json();
}
// The lists come in pages of at most 1000 items; X-Next-Page is 1 after the last page.
async function getAll(path) {
  const items = [];
  for (let page = 1; ; ) {
    const response = await fetch(path + '?per_page=1000&page=' + page, { cache: 'no-store' });
    if (!response.ok) throw new Error(path + ' returned ' + response.status);
    items.push(...(await response.json()));
    const next = Number(response.headers.get('X-Next-Page'));
    if (!(next > page)) return items;
    page = next;
  }
}
function fill(tableId, items, render) {
  const body = document.querySelector('#' + tableId + ' tbody');
  body.replaceChildren();
  for (const item of items) {
    const row = document.createElement('tr');
    row.dataset.name = item.name || '';
    render(row, item);
    body.appendChild(row);
  }
}
async function refresh() {
  const [version, overview, routers, services, certificates] = await Promise.all([
    getJson('/api/version'), getJson('/api/overview'), getAll('/api/http/routers'),
    getAll('/api/http/services'), getJson('/api/certificates').catch(() => []),
  ]);
  document.getElementById('version').textContent = 'version ' + version.Version;
  const providers = Object.entries(overview.providerStatus || {})
    .map(([name, status]) => name + ': ' + (status && status.connected === false ? 'disconnected' : 'connected'));
  document.getElementById('providers').textContent = providers.join(' · ');
  const http = overview.http;
  document.getElementById('overview').replaceChildren(...['routers', 'services', 'middlewares'].map((kind) => {
    const span = document.createElement('span');
    span.textContent = kind + ': ' + http[kind].total + ' (' + http[kind].errors + ' errors, ' + http[kind].warnings + ' warnings)';
    return span;
  }));
  fill('routers', routers, (row, router) => {
    const name = cell(row, router.name);
    name.appendChild(lines(router.error, 'problem'));
    name.appendChild(lines(router.warning, 'warning'));
    cell(row, document.createElement('code')).firstChild.appendChild(text(router.rule));
    cell(row, (router.entryPoints || []).join(', '));
    cell(row, router.priority);
    cell(row, router.service);
    cell(row, router.status, 'status-' + router.status);
  });
  fill('services', services, (row, service) => {
    const name = cell(row, service.name);
    name.appendChild(lines(service.error, 'problem'));
    name.appendChild(lines(service.warning, 'warning'));
    const servers = document.createElement('div');
    for (const server of service.loadBalancer.servers) {
      const line = document.createElement('div');
      const state = (service.serverStatus || {})[server.url] || '';
      line.appendChild(text(server.url + ' '));
      const badge = document.createElement('span');
      badge.className = state;
      badge.textContent = state;
      line.appendChild(badge);
      servers.appendChild(line);
    }
    cell(row, servers);
    cell(row, (service.usedBy || []).join(', '));
    cell(row, service.status, 'status-' + service.status);
  });
  const certificateList = Array.isArray(certificates) ? certificates : (certificates.certificates || []);
  fill('certificates', certificateList, (row, certificate) => {
    cell(row, (certificate.sans || []).join(', '));
    cell(row, certificate.source || certificate.resolver);
    cell(row, certificate.notAfter);
    cell(row, certificate.acmeStatus || certificate.status);
  });
}
document.getElementById('explain').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const query = new URLSearchParams();
  for (const [key, value] of form) if (value) query.set(key, value);
  const output = document.getElementById('explain-result');
  output.hidden = false;
  try {
    const response = await fetch('/api/explain?' + query);
    output.textContent = JSON.stringify(await response.json(), null, 2);
  } catch (error) {
    output.textContent = String(error);
  }
});
function loop() { refresh().catch((error) => { document.getElementById('overview').textContent = String(error); }); }
loop();
setInterval(loop, 5000);
</script>
</body>
</html>
`;

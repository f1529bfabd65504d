// The operators' dashboard: polls /health and /api/metrics/summary, draws small SVG
// charts, and sends a demo request whose status it follows. No libraries, no build step.
// Helpers shared with the other pages (key, JSON, SVG, formats) are in shared.js.
"use strict";

const POLL_MS = 1000;
const STATUS_POLL_MS = 300;
const STATUS_TIMEOUT_MS = 30000;
const HISTORY = 60;
const TRENDING_POLL_MS = 3000;

const history = { p50: [], p99: [], lag: [], batchAge: [] };

// ---------- helpers ----------

function remember(list, value) {
  list.push(value);
  if (list.length > HISTORY) list.shift();
}

function formatLatency(ms) {
  if (ms === null || ms === undefined) return ["—", ""];
  if (ms < 1000) return [formatNumber(ms), "ms"];
  if (ms < 60000) return [formatNumber(ms / 1000, 1), "s"];
  return [formatNumber(ms / 60000, 1), "min"];
}

function setValue(id, text, unit) {
  const target = document.querySelector(`#${id} [data-value]`);
  target.textContent = text;
  if (unit && text !== "—") {
    const small = document.createElement("small");
    small.textContent = unit;
    target.append(small);
  }
}

// ---------- charts ----------

function sparkline(svg, values) {
  const width = 120;
  const height = 32;
  const clean = values.map((v) => (v === null || v === undefined ? 0 : v));
  svg.replaceChildren();
  if (clean.length < 2) return;
  const top = Math.max(...clean, 1);
  const step = width / (clean.length - 1);
  const points = clean.map((v, i) => [i * step, height - 2 - (v / top) * (height - 4)]);
  const line = points.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`).join("");
  svg.append(svgElement("path", { class: "area", d: `${line}L${width},${height}L0,${height}Z` }));
  svg.append(svgElement("path", { class: "line", d: line }));
}

function throughputChart(svg, series) {
  const width = 600;
  const height = 140;
  svg.replaceChildren();
  for (const fraction of [0.25, 0.5, 0.75]) {
    const y = (height * fraction).toFixed(1);
    svg.append(svgElement("line", { class: "grid-line", x1: 0, x2: width, y1: y, y2: y }));
  }
  const top = Math.max(1, ...series.map((p) => p.success + p.error));
  document.getElementById("throughput-peak").textContent = `pico ${formatNumber(top)}/s ·`;
  const slot = width / series.length;
  series.forEach((point, i) => {
    const okHeight = (point.success / top) * (height - 4);
    const badHeight = (point.error / top) * (height - 4);
    const x = (i * slot + 1).toFixed(1);
    const barWidth = Math.max(1, slot - 2).toFixed(1);
    if (okHeight > 0) {
      svg.append(svgElement("rect", {
        class: "ok", x, width: barWidth, y: (height - okHeight).toFixed(1), height: okHeight.toFixed(1),
      }));
    }
    if (badHeight > 0) {
      svg.append(svgElement("rect", {
        class: "bad", x, width: barWidth,
        y: (height - okHeight - badHeight).toFixed(1), height: badHeight.toFixed(1),
      }));
    }
  });
}

function spark(id, values) {
  sparkline(document.querySelector(`#${id} .spark`), values);
}

// ---------- health ----------

const COMPONENT_DETAILS = {
  kafka: (dep) => (dep.status === "up" ? "broker respondendo" : "sem resposta do broker"),
  postgres: (dep) => (dep.status === "up" ? "aceitando conexões" : "indisponível"),
  elasticsearch: (dep) => dep.detail || (dep.status === "up" ? "indexando" : "indisponível"),
  worker: (dep) => `${dep.status === "up" ? "ativo" : dep.status} · ${dep.assigned_partitions ?? "?"} partições`,
};

function componentState(dep) {
  if (!dep) return "unknown";
  if (dep.status === "up") return "up";
  if (["rebalancing", "recovering", "degraded"].includes(dep.status)) return "busy";
  return "down";
}

function renderService(card, dep) {
  const name = card.dataset.component;
  card.dataset.state = componentState(dep);
  const describe = COMPONENT_DETAILS[name];
  let detail = "não informado por /health";
  if (dep) detail = describe ? describe(dep) : dep.status;
  card.querySelector(".detail").textContent = detail;
}

function renderHealth(status, body) {
  const deps = body.dependencies || {};
  for (const card of document.querySelectorAll(".service")) {
    renderService(card, deps[card.dataset.component]);
  }
  const overall = document.getElementById("overall");
  let state = "down";
  let text = "indisponível";
  if (status === 200 && body.status === "healthy") [state, text] = ["healthy", "tudo saudável"];
  else if (status === 200) [state, text] = ["busy", "degradado"];
  overall.dataset.state = state;
  document.getElementById("overall-text").textContent = text;
}

function renderUnreachable() {
  for (const card of document.querySelectorAll(".service")) {
    card.dataset.state = "unknown";
    card.querySelector(".detail").textContent = "API sem resposta";
  }
  const overall = document.getElementById("overall");
  overall.dataset.state = "down";
  document.getElementById("overall-text").textContent = "API sem resposta";
}

// ---------- figures ----------

function renderFigures(summary) {
  const series = summary.series || [];
  const totals = summary.totals || {};
  const latency = summary.latency_ms || {};
  const lag = summary.consumer_lag || { total: null };
  remember(history.p50, latency.p50);
  remember(history.p99, latency.p99);
  remember(history.lag, lag.total);
  const ages = Object.values(summary.agents || {}).map((a) => a.batch_age_s);
  const oldest = ages.length ? Math.max(...ages) : null;
  remember(history.batchAge, oldest);

  setValue("fig-rate", formatNumber(summary.events_per_s, 1), "/s");
  setValue("fig-success", formatNumber(totals.success));
  setValue("fig-errors", formatNumber(totals.error));
  setValue("fig-p50", ...formatLatency(latency.p50));
  setValue("fig-p99", ...formatLatency(latency.p99));
  setValue("fig-lag", formatNumber(lag.total));
  setValue("fig-batch-age", formatNumber(oldest, 1), "s");
  setValue("fig-dead", formatNumber(totals.dead_letters));

  spark("fig-rate", series.map((p) => p.events));
  spark("fig-success", series.map((p) => p.success));
  spark("fig-errors", series.map((p) => p.error));
  spark("fig-p50", history.p50);
  spark("fig-p99", history.p99);
  spark("fig-lag", history.lag);
  spark("fig-batch-age", history.batchAge);
  spark("fig-dead", series.map((p) => p.dead_letters));
  throughputChart(document.getElementById("throughput"), series);
  setValue("fig-viewings", formatNumber(summary.viewings_per_s, 1), "/s");
  spark("fig-viewings", series.map((p) => p.viewings));
  document.getElementById("viewings-total").textContent = formatNumber(totals.viewings);

  const worker = summary.worker || {};
  document.getElementById("worker-id").textContent =
    `worker ${worker.host || "?"} (${worker.web || "?"}) · app ${worker.app_id || "?"}`;
  document.getElementById("updated").textContent =
    `atualizado ${new Date().toLocaleTimeString("pt-BR")}`;
}

// ---------- polling ----------

async function refresh() {
  try {
    const health = await getJson("/health");
    renderHealth(health.status, health.body);
  } catch (error) {
    renderUnreachable();
  }
  if (!localStorage.getItem(KEY_STORAGE)) {
    showKeyState(401); // the figures need an admin key: don't ask without one
    return;
  }
  try {
    const summary = await getJson("/api/metrics/summary");
    showKeyState(summary.status);
    if (summary.status === 200) renderFigures(summary.body);
  } catch (error) {
    // The API is down: the health panel already says so.
  }
}

function poll() {
  refresh().finally(() => setTimeout(poll, POLL_MS));
}

// ---------- trending ----------

function renderTrending(answer) {
  const list = document.getElementById("trending");
  const items = answer.itens || [];
  if (!items.length) {
    list.replaceChildren(element("li", { class: "muted" }, "sem visualizações nesta janela ainda"));
    return;
  }
  const top = Math.max(1, ...items.map((item) => item.espectadores));
  list.replaceChildren(...items.map((item) => {
    const bar = element("span", { class: "bar" });
    bar.style.width = `${(100 * item.espectadores / top).toFixed(1)}%`;
    return element("li", { "data-conteudo-id": String(item.conteudo_id) },
      element("span", { class: "title" }, item.titulo || `#${item.conteudo_id}`),
      element("span", { class: "muted small" }, `${item.tipo || ""} · ${item.categoria || ""}`),
      element("span", { class: "viewers" }, bar, formatNumber(item.espectadores)));
  }));
  document.getElementById("trending-updated").textContent =
    answer.atualizado_em ? `atualizado ${formatTime(answer.atualizado_em)}` : "";
}

async function refreshTrending() {
  if (!apiKey()) return;
  const window = document.getElementById("trending-window").value;
  try {
    const answer = await getJson(`/em-alta?janela=${encodeURIComponent(window)}&limit=10`);
    if (answer.status === 200) renderTrending(answer.body);
  } catch (error) {
    // The API is down: the health panel already says so.
  }
}

function pollTrending() {
  refreshTrending().finally(() => setTimeout(pollTrending, TRENDING_POLL_MS));
}

// ---------- demo request ----------

function markStep(step, cssClass = "done") {
  const item = document.querySelector(`#demo-steps [data-step="${step}"]`);
  item.className = cssClass;
}

function showStatus(status, body) {
  const badge = document.getElementById("demo-status");
  badge.textContent = status;
  badge.dataset.status = status;
  const pre = document.getElementById("demo-body");
  pre.hidden = false;
  pre.textContent = JSON.stringify(body, null, 2);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function followStatus(statusUrl) {
  const deadline = Date.now() + STATUS_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const answer = await getJson(statusUrl);
    if (answer.status === 200) {
      showStatus(answer.body.status, answer.body);
      if (answer.body.status !== "pendente") return answer.body.status;
    }
    await sleep(STATUS_POLL_MS);
  }
  return "pendente";
}

async function sendDemo() {
  const button = document.getElementById("demo-send");
  button.disabled = true;
  document.querySelectorAll("#demo-steps li").forEach((li) => { li.className = ""; });
  try {
    const answer = await fetch("/usuarios", { method: "POST", headers: apiHeaders() });
    const body = await answer.json();
    if (answer.status !== 202) {
      showStatus("error", body);
      markStep("final", "error");
      return;
    }
    markStep("sent");
    // Its documents in Elasticsearch, one click away in the log explorer.
    const trail = `/dashboard/logs?correlation_id=${encodeURIComponent(body.correlation_id)}`;
    document.getElementById("demo-cid").replaceChildren(
      element("a", { href: trail, title: "ver no explorador de logs", text: body.correlation_id }),
    );
    showStatus("pendente", body);
    markStep("pendente");
    const final = await followStatus(body.status_url);
    if (final !== "pendente") markStep("final", final);
  } catch (error) {
    showStatus("error", { error: String(error) });
  } finally {
    button.disabled = false;
  }
}

// ---------- start ----------

// A tool link goes to the tool where it answers (compose), and to the dashboard's own
// view doing its job otherwise (/dashboard/tools says which); until that is known, to the tool.
function linkTool(link, state) {
  const port = link.dataset.port;
  const own = Boolean(state && !state.available && state.fallback);
  link.href = own ? state.fallback : `${location.protocol}//${location.hostname}:${port}/`;
  if (own) {
    link.removeAttribute("target");
    link.removeAttribute("rel");
  } else {
    link.target = "_blank";
    link.rel = "noopener";
  }
  link.dataset.target = own ? "dashboard" : "tool";
  link.dataset.available = state ? String(state.available) : "unknown";
  let where = `:${port}`;
  if (own) where = `${state.fallback} · neste dashboard`;
  else if (state && !state.available) where = `:${port} · sem resposta`;
  link.querySelector("small").textContent = where;
}

async function linkTools() {
  const links = document.querySelectorAll("#tools a[data-port]");
  links.forEach((link) => linkTool(link, null));
  try {
    const tools = await getJson("/dashboard/tools");
    links.forEach((link) => linkTool(link, tools.body[link.dataset.name]));
  } catch (error) {
    // The API is down: the links stay on the tools' own ports.
  }
}

markCurrentPage();
linkTools();
setupKeyField();
document.getElementById("demo-send").addEventListener("click", sendDemo);
document.getElementById("trending-window").addEventListener("change", refreshTrending);
poll();
pollTrending();

// The operators' dashboard: polls /health and /api/metrics/summary, draws small SVG
// charts, and sends a demo request whose status it follows. No libraries, no build step.
"use strict";

const POLL_MS = 1000;
const STATUS_POLL_MS = 300;
const STATUS_TIMEOUT_MS = 30000;
const HISTORY = 60;
const SVG_NS = "http://www.w3.org/2000/svg";

const history = { p50: [], p99: [], lag: [] };

// ---------- helpers ----------

// The API key the operator typed, kept in this browser only (localStorage).
const KEY_STORAGE = "streaming-platform-api-key";

function apiHeaders() {
  const key = localStorage.getItem(KEY_STORAGE);
  const headers = { Accept: "application/json" };
  if (key) headers["X-API-Key"] = key;
  return headers;
}

function showKeyState(status) {
  const state = document.getElementById("api-key-state");
  if (status === 401) state.textContent = "chave ausente ou inválida";
  else if (status === 403) state.textContent = "a chave precisa do escopo admin";
  else state.textContent = "";
}

function setupKeyField() {
  const field = document.getElementById("api-key");
  field.value = localStorage.getItem(KEY_STORAGE) || "";
  field.addEventListener("change", () => localStorage.setItem(KEY_STORAGE, field.value.trim()));
  document.getElementById("api-key-form").addEventListener("submit", (event) => event.preventDefault());
}

async function getJson(path) {
  const answer = await fetch(path, { headers: apiHeaders(), cache: "no-store" });
  return { status: answer.status, body: await answer.json() };
}

function remember(list, value) {
  list.push(value);
  if (list.length > HISTORY) list.shift();
}

function formatNumber(value, digits = 0) {
  if (value === null || value === undefined) return "—";
  return Number(value).toLocaleString("pt-BR", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
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

function svgElement(name, attributes) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
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

  setValue("fig-rate", formatNumber(summary.events_per_s, 1), "/s");
  setValue("fig-success", formatNumber(totals.success));
  setValue("fig-errors", formatNumber(totals.error));
  setValue("fig-p50", ...formatLatency(latency.p50));
  setValue("fig-p99", ...formatLatency(latency.p99));
  setValue("fig-lag", formatNumber(lag.total));
  setValue("fig-dead", formatNumber(totals.dead_letters));

  spark("fig-rate", series.map((p) => p.events));
  spark("fig-success", series.map((p) => p.success));
  spark("fig-errors", series.map((p) => p.error));
  spark("fig-p50", history.p50);
  spark("fig-p99", history.p99);
  spark("fig-lag", history.lag);
  spark("fig-dead", series.map((p) => p.dead_letters));
  throughputChart(document.getElementById("throughput"), series);

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
    document.getElementById("demo-cid").textContent = body.correlation_id;
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

function linkTools() {
  for (const link of document.querySelectorAll("#tools a[data-port]")) {
    link.href = `${location.protocol}//${location.hostname}:${link.dataset.port}/`;
    link.target = "_blank";
    link.rel = "noopener";
  }
}

linkTools();
setupKeyField();
document.getElementById("demo-send").addEventListener("click", sendDemo);
poll();

// The log explorer: searches system_logs through GET /logs (filters, time range, pages),
// draws the matching events over time as SVG bars, and shows one request's trail from
// GET /logs/{correlation_id}. Filters live in the page's URL, so a search can be linked.
"use strict";

const FILTERS = ["correlation_id", "user_id", "event_type", "topic", "requested_by"];
const PERIOD_MS = { "15m": 15 * 60e3, "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3 };
const INTERVAL_UNITS_MS = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };
// The widest a bar is drawn (of the chart's 600): a few bars must not look like a block.
const MAX_BAR_WIDTH = 24;
const PAGE_SIZE = 20;
const FIELD_IDS = {
  correlation_id: "f-correlation",
  user_id: "f-user",
  event_type: "f-type",
  topic: "f-topic",
  requested_by: "f-key",
};

const state = { page: 1, total: 0 };

// ---------- the form and the URL ----------

function field(name) {
  return document.getElementById(FIELD_IDS[name]);
}

// The page's own parameters: the filters, the period ("periodo") and the page.
function formParams() {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = field(name).value.trim();
    if (value) params.set(name, value);
  }
  const period = document.getElementById("f-period").value;
  params.set("periodo", period);
  if (period === "custom") {
    for (const [name, id] of [["desde", "f-since"], ["ate", "f-until"]]) {
      const value = document.getElementById(id).value;
      if (value) params.set(name, value);
    }
  }
  if (state.page > 1) params.set("pagina", state.page);
  return params;
}

function fillForm(params) {
  for (const name of FILTERS) field(name).value = params.get(name) || "";
  const period = params.get("periodo") || (params.get("correlation_id") ? "tudo" : "1h");
  document.getElementById("f-period").value = period;
  document.getElementById("f-since").value = params.get("desde") || "";
  document.getElementById("f-until").value = params.get("ate") || "";
  state.page = Number(params.get("pagina")) || 1;
  showCustomRange();
}

function showCustomRange() {
  const custom = document.getElementById("f-period").value === "custom";
  document.querySelectorAll("#search .custom").forEach((label) => { label.hidden = !custom; });
}

// The API's query: the period becomes desde/ate in UTC (datetime-local is the browser's time).
function apiQuery(params) {
  const query = new URLSearchParams();
  for (const name of FILTERS) if (params.get(name)) query.set(name, params.get(name));
  const period = params.get("periodo");
  if (PERIOD_MS[period]) {
    const now = Date.now();
    query.set("desde", new Date(now - PERIOD_MS[period]).toISOString());
    query.set("ate", new Date(now).toISOString());
  } else if (period === "custom") {
    for (const name of ["desde", "ate"]) {
      if (params.get(name)) query.set(name, new Date(params.get(name)).toISOString());
    }
  }
  query.set("pagina", params.get("pagina") || "1");
  query.set("limit", PAGE_SIZE);
  return query;
}

// ---------- searching ----------

async function search() {
  const params = formParams();
  history.replaceState(null, "", `${location.pathname}?${params}`);
  if (!apiKey()) {
    showKeyState(401);
    return;
  }
  let answer;
  try {
    answer = await getJson(`/logs?${apiQuery(params)}`);
  } catch (error) {
    showProblem("search-error", "API sem resposta");
    return;
  }
  showKeyState(answer.status, "read");
  if (answer.status !== 200) {
    showProblem("search-error", problemText(answer));
    return;
  }
  showProblem("search-error", null);
  render(answer.body);
}

function problemText(answer) {
  if (answer.status === 422) {
    return `Filtros inválidos: ${answer.body.campos.map((c) => `${c.campo} (${c.erro})`).join("; ")}`;
  }
  if (answer.status === 503) return "Elasticsearch indisponível: tente novamente em instantes";
  if (answer.status === 401 || answer.status === 403) return "Digite uma chave de API válida";
  return answer.body.error || `erro ${answer.status}`;
}

function render(body) {
  state.total = body.total;
  document.getElementById("summary").textContent =
    `${formatNumber(body.total)} evento(s)`;
  document.getElementById("scope").textContent = body.escopo === "todos"
    ? "índice system_logs · todas as requisições (chave admin)"
    : "índice system_logs · só as requisições da sua chave";
  renderHistogram(body.histograma);
  renderResults(body.eventos);
  renderPager(body);
  fillSuggestions("event-types", body.facetas.event_type);
  fillSuggestions("topics", body.facetas.topic);
}

function fillSuggestions(id, facet) {
  const options = facet.map((f) => element("option", { value: f.value, label: `${f.value} (${f.count})` }));
  document.getElementById(id).replaceChildren(...options);
}

// ---------- histogram ----------

function intervalMs(interval) {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(interval || "");
  return match ? Number(match[1]) * INTERVAL_UNITS_MS[match[2]] : 0;
}

function renderHistogram(histogram) {
  const svg = document.getElementById("histogram");
  svg.replaceChildren();
  const bars = histogram.barras;
  const labels = ["axis-start", "axis-interval", "axis-end"].map((id) => document.getElementById(id));
  labels.forEach((label) => { label.textContent = ""; });
  if (bars.length === 0) {
    svg.append(svgElement("text", { x: 300, y: 70, class: "empty", "text-anchor": "middle" }));
    svg.lastChild.textContent = "nenhum evento";
    return;
  }
  const [width, height, top] = [600, 130, Math.max(...bars.map((b) => b.count), 1)];
  for (const fraction of [0.5, 1]) {
    const y = (height - (height - 14) * fraction).toFixed(1);
    svg.append(svgElement("line", { class: "grid-line", x1: 0, x2: width, y1: y, y2: y }));
  }
  const slot = width / bars.length;
  bars.forEach((bar, i) => svg.append(histogramBar(bar, i, slot, height, top, histogram.intervalo)));
  const fine = intervalMs(histogram.intervalo) < 1000;
  labels[0].textContent = formatTime(bars[0].start, fine);
  labels[1].textContent = `barras de ${histogram.intervalo} · pico ${formatNumber(top)}`;
  labels[2].textContent = formatTime(bars[bars.length - 1].start, fine);
}

function histogramBar(bar, index, slot, height, top, interval) {
  const barHeight = bar.count ? Math.max(2, (bar.count / top) * (height - 14)) : 0;
  const group = svgElement("g", { class: "bar", "data-start": bar.start, "data-count": bar.count });
  // A full-height target, so even an empty bar can be clicked to zoom into its interval.
  group.append(svgElement("rect", {
    class: "target", x: (index * slot).toFixed(1), width: slot.toFixed(1), y: 0, height,
  }));
  const width = Math.min(MAX_BAR_WIDTH, Math.max(1, slot - Math.min(2, slot * 0.2)));
  group.append(svgElement("rect", {
    class: "value",
    x: (index * slot + (slot - width) / 2).toFixed(1),
    width: width.toFixed(1),
    y: (height - barHeight).toFixed(1),
    height: barHeight.toFixed(1),
  }));
  const title = svgElement("title", {});
  const from = formatTime(bar.start, intervalMs(interval) < 1000);
  title.textContent = `${formatNumber(bar.count)} evento(s) a partir de ${from} (${interval})`;
  group.append(title);
  group.addEventListener("click", () => zoomInto(bar.start, interval));
  return group;
}

// Narrows the search to one bar's interval.
function zoomInto(start, interval) {
  const from = new Date(start);
  const until = new Date(from.getTime() + intervalMs(interval) - 1);
  document.getElementById("f-period").value = "custom";
  document.getElementById("f-since").value = localInput(from);
  document.getElementById("f-until").value = localInput(until);
  showCustomRange();
  state.page = 1;
  search();
}

// A Date as a datetime-local value (the browser's own time, to the second).
function localInput(moment) {
  const shifted = new Date(moment.getTime() - moment.getTimezoneOffset() * 60e3);
  return shifted.toISOString().slice(0, 19);
}

// ---------- results ----------

function renderResults(documents) {
  const rows = documents.map((doc) => element(
    "tr",
    { "data-correlation-id": doc.correlation_id || "" },
    element("td", { class: "when", title: formatTime(doc.timestamp, true), text: formatShortTime(doc.timestamp) }),
    nameCell(doc.topic || "—"),
    nameCell(doc.event_type || "—"),
    element("td", {}, statusBadge(doc)),
    element("td", { class: "num", text: doc.user_id ?? "—" }),
    element("td", { text: doc.requested_by || "—" }),
    element("td", {}, doc.correlation_id
      ? element("button", {
        type: "button",
        class: "link",
        title: `trilha de ${doc.correlation_id}`,
        "data-trail": doc.correlation_id,
        text: `${doc.correlation_id.slice(0, 13)}…`,
      })
      : "—"),
  ));
  const body = document.querySelector("#results tbody");
  body.replaceChildren(...rows);
  if (rows.length === 0) {
    body.append(element("tr", {}, element("td", { colspan: 7, class: "muted", text: "Nenhum evento com estes filtros." })));
  }
}

function statusBadge(doc) {
  const status = doc.status || (doc.event_type === "dead_letter" ? "error" : null);
  if (!status) return document.createTextNode("—");
  return element("span", { class: "badge", "data-status": status, text: doc.stage ? `${status} · ${doc.stage}` : status });
}

function renderPager(body) {
  const pages = Math.max(1, Math.ceil(Math.min(body.total, 10000) / body.limit));
  document.getElementById("page-info").textContent = `página ${body.pagina} de ${formatNumber(pages)}`;
  document.getElementById("page-prev").disabled = body.pagina <= 1;
  document.getElementById("page-next").disabled = body.pagina >= pages;
}

function turnPage(step) {
  state.page = Math.max(1, state.page + step);
  search();
}

// ---------- one request's trail ----------

async function showTrail(correlationId) {
  document.getElementById("trail-title").textContent = `Trilha de ${correlationId}`;
  document.getElementById("trail-hint").hidden = true;
  document.querySelectorAll("#results tr.selected").forEach((row) => row.classList.remove("selected"));
  document.querySelectorAll(`#results tr[data-correlation-id="${correlationId}"]`)
    .forEach((row) => row.classList.add("selected"));
  const steps = document.getElementById("trail-steps");
  const answer = await getJson(`/logs/${encodeURIComponent(correlationId)}`);
  if (answer.status !== 200) {
    steps.replaceChildren(element("li", { class: "muted", text: answer.body.error || `erro ${answer.status}` }));
    return;
  }
  steps.replaceChildren(...answer.body.eventos.map(trailStep));
}

function trailStep(doc) {
  const facts = [doc.topic, doc.stage, doc.latency_ms != null ? `${formatNumber(doc.latency_ms, 1)} ms` : null];
  return element(
    "li",
    { class: "step", "data-topic": doc.topic },
    element("div", { class: "step-head" },
      element("strong", { text: doc.event_type || "—" }),
      statusBadge(doc),
      element("span", { class: "muted small", text: formatTime(doc.timestamp, true) })),
    element("p", { class: "muted small", text: facts.filter(Boolean).join(" · ") }),
    element("details", {},
      element("summary", { text: "documento" }),
      element("pre", { class: "json", text: JSON.stringify(doc, null, 2) })),
  );
}

// ---------- start ----------

function start() {
  markCurrentPage();
  setupKeyField(search);
  fillForm(new URLSearchParams(location.search));
  document.getElementById("search").addEventListener("submit", (event) => {
    event.preventDefault();
    state.page = 1;
    search();
  });
  document.getElementById("search-clear").addEventListener("click", () => {
    fillForm(new URLSearchParams());
    search();
  });
  document.getElementById("f-period").addEventListener("change", showCustomRange);
  document.getElementById("page-prev").addEventListener("click", () => turnPage(-1));
  document.getElementById("page-next").addEventListener("click", () => turnPage(1));
  document.querySelector("#results tbody").addEventListener("click", (event) => {
    const button = event.target.closest("[data-trail]");
    if (button) showTrail(button.dataset.trail);
  });
  search().then(() => {
    const wanted = new URLSearchParams(location.search).get("correlation_id");
    if (wanted) showTrail(wanted);
  });
}

start();

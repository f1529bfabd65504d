// Helpers every dashboard page shares: the API key kept in this browser, JSON reads
// with it, small DOM and SVG builders, and number and time formats. No libraries.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
// The API key the operator typed, kept in this browser only (localStorage).
const KEY_STORAGE = "streaming-platform-api-key";

function apiKey() {
  return localStorage.getItem(KEY_STORAGE) || "";
}

function apiHeaders() {
  const key = apiKey();
  const headers = { Accept: "application/json" };
  if (key) headers["X-API-Key"] = key;
  return headers;
}

// What the key field says about the last answer: 401 and 403 need the operator.
function showKeyState(status, scope = "admin") {
  const state = document.getElementById("api-key-state");
  if (status === 401) state.textContent = "chave ausente ou inválida";
  else if (status === 403) state.textContent = `a chave precisa do escopo ${scope}`;
  else state.textContent = "";
}

// The header's key field: filled from this browser, saved on change; onChange runs after.
function setupKeyField(onChange) {
  const field = document.getElementById("api-key");
  field.value = apiKey();
  field.addEventListener("change", () => {
    localStorage.setItem(KEY_STORAGE, field.value.trim());
    if (onChange) onChange();
  });
  document.getElementById("api-key-form").addEventListener("submit", (event) => event.preventDefault());
}

// A page's problem notice (element `id`): shown with `text`, hidden when `text` is empty.
function showProblem(id, text) {
  const notice = document.getElementById(id);
  notice.hidden = !text;
  notice.textContent = text || "";
}

async function getJson(path) {
  const answer = await fetch(path, { headers: apiHeaders(), cache: "no-store" });
  return { status: answer.status, body: await answer.json() };
}

function formatNumber(value, digits = 0) {
  if (value === null || value === undefined) return "—";
  return Number(value).toLocaleString("pt-BR", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

// An ISO 8601 instant in the operator's local time, to the second (milliseconds when asked).
function formatTime(iso, withMillis = false) {
  if (!iso) return "—";
  const moment = new Date(iso);
  const text = moment.toLocaleString("pt-BR");
  return withMillis ? `${text},${String(moment.getMilliseconds()).padStart(3, "0")}` : text;
}

// The same, short: day/month and time of day with milliseconds (lists of events).
function formatShortTime(iso) {
  if (!iso) return "—";
  const moment = new Date(iso);
  const day = moment.toLocaleDateString("pt-BR", { day: "2-digit", month: "2-digit" });
  const time = moment.toLocaleTimeString("pt-BR");
  return `${day} ${time},${String(moment.getMilliseconds()).padStart(3, "0")}`;
}

function svgElement(name, attributes) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

// An HTML element with attributes (class, dataset entries as data-*, others as is) and children.
function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

// A table cell for a long name (topic, group): it may break after - _ . and nowhere else.
function nameCell(name, ...extra) {
  const cell = element("td", { class: "name" });
  name.split(/(?<=[-_.])/).forEach((part, i) => {
    if (i) cell.append(document.createElement("wbr"));
    cell.append(part);
  });
  cell.append(...extra.filter(Boolean));
  return cell;
}

// Marks the header's link to the page being shown.
function markCurrentPage() {
  for (const link of document.querySelectorAll("nav.pages a")) {
    if (link.getAttribute("href") === location.pathname) link.setAttribute("aria-current", "page");
  }
}

// The Kafka view: consumer groups with their lag per partition, topics with their
// partitions and offsets, and a topic's newest messages (masked by the API), read from
// /api/kafka/... every few seconds. Needs an admin key. Helpers are in shared.js.
"use strict";

const REFRESH_MS = 3000;
const MESSAGES = 20;

const view = { topic: null, group: null, appGroup: null, topics: [], timer: null, refused: false };

// ---------- reading ----------

// One JSON reading of the Kafka view; null (with the reason shown) when it failed.
async function readKafka(path) {
  let answer;
  try {
    answer = await getJson(path);
  } catch (error) {
    showProblem("kafka-error", "API sem resposta");
    return null;
  }
  showKeyState(answer.status);
  // Refused keys stop the live refresh until another key is typed (no request storm of 403s).
  if (answer.status === 401 || answer.status === 403) view.refused = true;
  if (answer.status === 503) showProblem("kafka-error", "Kafka indisponível: nova tentativa em instantes");
  if (answer.status !== 200) return null;
  showProblem("kafka-error", null);
  return answer.body;
}

// ---------- groups ----------

function renderGroups(body) {
  view.appGroup = body.app_group;
  if (!view.group) view.group = body.app_group;
  const rows = body.groups.map((group) => element(
    "tr",
    { "data-group": group.group_id, class: rowClass(group.group_id === view.group, group.app) },
    nameCell(group.group_id),
    element("td", {}, element("span", { class: "state", "data-state": group.state, text: group.state })),
    element("td", { class: "num", text: formatNumber(group.members) }),
  ));
  document.querySelector("#groups tbody").replaceChildren(...rows);
}

function renderGroupLag(lag) {
  document.getElementById("group-title").textContent = lag.group_id;
  const pill = document.getElementById("group-lag");
  pill.hidden = false;
  pill.textContent = `lag total ${formatNumber(lag.lag)}`;
  pill.dataset.level = lag.lag > 0 ? "warn" : "ok";
  const rows = lag.partitions.map((p) => element(
    "tr",
    { "data-topic": p.topic, "data-partition": p.partition },
    nameCell(p.topic),
    element("td", { class: "num", text: p.partition }),
    element("td", { class: "num", text: formatNumber(p.committed) }),
    element("td", { class: "num", text: formatNumber(p.end) }),
    element("td", { class: `num lag${p.lag ? " behind" : ""}`, text: formatNumber(p.lag) }),
  ));
  document.querySelector("#group-partitions tbody").replaceChildren(...rows);
  document.getElementById("group-partitions").hidden = rows.length === 0;
  document.getElementById("group-empty").hidden = rows.length > 0;
}

// ---------- topics ----------

function shownTopics() {
  const search = document.getElementById("topic-search").value.trim().toLowerCase();
  const ownOnly = document.getElementById("own-only").checked;
  return view.topics.filter((t) => (!ownOnly || t.app) && t.name.toLowerCase().includes(search));
}

function renderTopics() {
  const shown = shownTopics();
  const rows = shown.map((topic) => element(
    "tr",
    { "data-topic": topic.name, class: rowClass(topic.name === view.topic, topic.app) },
    nameCell(topic.name, topic.internal ? element("span", { class: "tag", text: "interno" }) : null),
    element("td", { class: "num", text: topic.partitions.length }),
    element("td", { class: "num", text: formatNumber(topic.messages) }),
  ));
  document.querySelector("#topics tbody").replaceChildren(...rows);
  const hidden = view.topics.length - shown.length;
  document.getElementById("topics-hidden").textContent =
    hidden > 0 ? `${hidden} tópico(s) fora do filtro` : "";
  renderTopicDetail(view.topics.find((t) => t.name === view.topic));
}

function renderTopicDetail(topic) {
  const table = document.getElementById("topic-partitions");
  table.hidden = !topic;
  if (!topic) return;
  document.getElementById("topic-title").textContent = topic.name;
  const total = document.getElementById("topic-total");
  total.hidden = false;
  total.textContent = `${formatNumber(topic.messages)} mensagens`;
  const rows = topic.partitions.map((p) => element(
    "tr",
    {},
    element("td", { class: "num", text: p.partition }),
    element("td", { class: "num", text: p.leader }),
    element("td", { class: "num", text: formatNumber(p.beginning) }),
    element("td", { class: "num", text: formatNumber(p.end) }),
    element("td", { class: "num", text: formatNumber(p.messages) }),
  ));
  table.querySelector("tbody").replaceChildren(...rows);
}

// ---------- messages ----------

function renderMessages(body) {
  document.getElementById("messages-title").hidden = false;
  const items = body.messages.map((message) => element(
    "li",
    { class: "message", "data-partition": message.partition, "data-offset": message.offset },
    element(
      "div",
      { class: "message-head" },
      element("span", { class: "tag", text: `p${message.partition} · #${message.offset}` }),
      element("span", { text: formatTime(message.timestamp, true) }),
      element("span", { class: "muted", text: `chave ${message.key ?? "—"} · ${formatNumber(message.size)} B` }),
    ),
    element("pre", { class: `json value-${message.format}`, text: showValue(message) }),
  ));
  const list = document.getElementById("messages");
  list.replaceChildren(...items);
  if (items.length === 0) list.append(element("li", { class: "muted small", text: "tópico vazio" }));
}

function showValue(message) {
  if (message.format === "json") return JSON.stringify(message.value, null, 2);
  if (message.format === "text") return message.value;
  return "(vazia)";
}

// ---------- refresh ----------

async function refreshGroups() {
  const groups = await readKafka("/api/kafka/groups");
  if (groups) renderGroups(groups);
  if (!view.group) return;
  const lag = await readKafka(`/api/kafka/groups/${encodeURIComponent(view.group)}`);
  if (lag) renderGroupLag(lag);
}

async function refreshTopics() {
  const topics = await readKafka("/api/kafka/topics");
  if (!topics) return;
  view.topics = topics.topics;
  renderTopics();
}

async function refreshMessages() {
  if (!view.topic) return;
  const path = `/api/kafka/topics/${encodeURIComponent(view.topic)}/messages?limit=${MESSAGES}`;
  const body = await readKafka(path);
  if (body && body.topic === view.topic) renderMessages(body);
}

async function refresh() {
  if (!apiKey()) {
    showKeyState(401);
    document.getElementById("kafka-state").textContent = "digite uma chave com escopo admin";
    return;
  }
  await Promise.all([refreshGroups(), refreshTopics(), refreshMessages()]);
  document.getElementById("kafka-state").textContent = view.appGroup
    ? `grupo deste worker: ${view.appGroup}`
    : "";
  document.getElementById("updated").textContent =
    `atualizado ${new Date().toLocaleTimeString("pt-BR")}`;
}

function schedule() {
  clearTimeout(view.timer);
  if (document.getElementById("live").checked && !view.refused) {
    view.timer = setTimeout(loop, REFRESH_MS);
  }
}

function loop() {
  view.refused = false;
  refresh().finally(schedule);
}

// ---------- choices ----------

function rowClass(selected, own) {
  return [selected ? "selected" : "", own ? "own" : ""].filter(Boolean).join(" ");
}

function chooseGroup(event) {
  const row = event.target.closest("tr[data-group]");
  if (!row) return;
  view.group = row.dataset.group;
  refreshGroups();
}

function chooseTopic(event) {
  const row = event.target.closest("tr[data-topic]");
  if (!row) return;
  view.topic = row.dataset.topic;
  document.getElementById("messages").replaceChildren();
  renderTopics();
  refreshMessages();
}

function start() {
  markCurrentPage();
  setupKeyField(loop);
  document.querySelector("#groups tbody").addEventListener("click", chooseGroup);
  document.querySelector("#topics tbody").addEventListener("click", chooseTopic);
  document.getElementById("topic-search").addEventListener("input", renderTopics);
  document.getElementById("own-only").addEventListener("change", renderTopics);
  document.getElementById("live").addEventListener("change", schedule);
  document.getElementById("topic-filter").addEventListener("submit", (e) => e.preventDefault());
  loop();
}

start();

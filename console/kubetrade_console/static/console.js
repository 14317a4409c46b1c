// kubetrade console: sortable, paged tables; live updates (server-sent events);
// actions. Plain JavaScript served by the console itself: no npm, no CDN, no build.
"use strict";

function cellValue(row, col) {
  const text = row.children[col] ? row.children[col].textContent.trim() : "";
  const num = Number(text);
  return text !== "" && !Number.isNaN(num) ? num : text;
}

function showPage(table, page) {
  const size = Number(table.dataset.pageSize || 25);
  const rows = Array.from(table.tBodies[0].rows);
  const pages = Math.max(1, Math.ceil(rows.length / size));
  page = Math.min(Math.max(page, 0), pages - 1);
  rows.forEach((r, i) => { r.hidden = Math.floor(i / size) !== page; });
  table.dataset.page = String(page);
  const pager = document.querySelector(`.pager[data-for="${table.id}"]`);
  if (!pager) return;
  pager.textContent = "";
  if (pages < 2) return;
  const prev = document.createElement("button");
  prev.textContent = "‹"; prev.disabled = page === 0;
  prev.addEventListener("click", () => showPage(table, page - 1));
  const next = document.createElement("button");
  next.textContent = "›"; next.disabled = page === pages - 1;
  next.addEventListener("click", () => showPage(table, page + 1));
  const label = document.createElement("span");
  label.textContent = ` page ${page + 1} of ${pages} `;
  pager.append(prev, label, next);
}

function sortBy(table, th) {
  const col = Number(th.dataset.col);
  const asc = !th.classList.contains("asc");
  table.querySelectorAll("th").forEach((h) => h.classList.remove("asc", "desc"));
  th.classList.add(asc ? "asc" : "desc");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = cellValue(a, col), y = cellValue(b, col);
    return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
  });
  rows.forEach((r) => body.appendChild(r));
  showPage(table, 0);
}

function setText(id, value) {
  const el = document.getElementById(id);
  if (el && value !== undefined && value !== null) el.textContent = String(value);
}

function live(section) {
  const source = new EventSource(section.dataset.stream);
  const rewards = [];
  source.onmessage = (msg) => {
    const data = JSON.parse(msg.data);
    const status = data.status || {};
    setText("phase", status.phase);
    setText("suspended", (data.spec || {}).suspend);
    const progress = status.progress || {};
    setText("percent", progress.percent);
    setText("reward", progress.meanReward);
    if (progress.meanReward !== undefined) rewards.push(progress.meanReward);
  };
  source.addEventListener("error", () => { /* the browser reconnects on its own */ });
}

async function act(button) {
  const out = document.getElementById("action-result");
  const response = await fetch(button.dataset.url, { method: "POST", credentials: "same-origin" });
  const body = await response.json();
  if (out) out.textContent = response.ok ? "done" : `${response.status}: ${body.detail}`;
  if (response.ok) setText("suspended", (body.spec || {}).suspend);
}

async function login(form) {
  // Back to the page that sent us here: the console checks `next` and answers
  // with it only when it is one of its own pages, else with "/".
  const next = new URLSearchParams(window.location.search).get("next") || "/";
  const response = await fetch("/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: form.token.value.trim(), next }),
  });
  if (response.ok) { window.location.assign((await response.json()).next || "/"); return; }
  setText("login-error", (await response.json()).detail);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("table.sortable").forEach((table) => {
    table.querySelectorAll("th[data-col]").forEach((th) => {
      // Keyboard users sort too: a header takes focus and answers Enter or Space.
      th.tabIndex = 0;
      th.setAttribute("role", "button");
      th.addEventListener("click", () => sortBy(table, th));
      th.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, th); }
      });
    });
    showPage(table, 0);
  });
  document.querySelectorAll("[data-stream]").forEach(live);
  document.querySelectorAll("button.action").forEach((b) =>
    b.addEventListener("click", () => act(b)));
  const form = document.getElementById("login");
  if (form) form.addEventListener("submit", (e) => { e.preventDefault(); login(form); });
  const ns = document.getElementById("open-ns");
  if (ns) ns.addEventListener("submit", (e) => {
    e.preventDefault(); window.location.assign(`/ns/${encodeURIComponent(ns.namespace.value)}`);
  });
});

// Reelsmith page: submit tasks, poll their status, show the result.
// Every user-supplied string is set with textContent, never as HTML.
"use strict";

const form = document.getElementById("create-form");
const list = document.getElementById("tasks");
const empty = document.getElementById("empty");
const formError = document.getElementById("form-error");
const template = document.getElementById("task-template");
const views = new Map();  // task id -> <li>
let pollTimer = null;
let idlePolls = 0;

// With API_TOKEN set on the server, the token is asked once and kept in this
// browser: sent as a Bearer header, and as a cookie so <video> can load.
const tokenRequired = form.dataset.tokenRequired === "yes";
const tokenCookie = form.dataset.tokenCookie;
function token() { return localStorage.getItem("reelsmith-token") || ""; }
function rememberToken(value) {
  localStorage.setItem("reelsmith-token", value);
  document.cookie = `${tokenCookie}=${encodeURIComponent(value)}; path=/; SameSite=Strict`;
}
if (tokenRequired && token()) rememberToken(token());

// The form's fields and files, as the API takes them: the token (when asked
// for) is remembered and sent as a header, not as a field.
function formData() {
  const data = new FormData(form);
  if (tokenRequired) {
    if (data.get("token")) rememberToken(data.get("token"));
    data.delete("token");
  }
  return data;
}

async function api(path, options = {}) {
  if (tokenRequired && token()) {
    options.headers = Object.assign({}, options.headers, { Authorization: `Bearer ${token()}` });
  }
  const response = await fetch(path, options);
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    const message = (body && body.error) || `request failed (HTTP ${response.status})`;
    const error = new Error(message);
    error.field = body && body.field;  // the request field it names, if any
    throw error;
  }
  return body;
}

// 1 -> "1st", 2 -> "2nd", 3 -> "3rd", 11 -> "11th"
function ordinal(n) {
  const tens = n % 100, ones = n % 10;
  const suffix = tens >= 11 && tens <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[ones] || "th");
  return `${n}${suffix}`;
}

// 45 -> "about 45 s", 70 -> "about 1 min", 3700 -> "about 62 min"
function about(seconds) {
  return seconds < 60 ? `about ${Math.ceil(seconds)} s` : `about ${Math.round(seconds / 60)} min`;
}

function render(task) {
  let li = views.get(task.id);
  if (!li) {
    li = template.content.firstElementChild.cloneNode(true);
    li.dataset.taskId = task.id;
    li.querySelector(".cancel").addEventListener("click", () => cancelTask(task.id));
    views.set(task.id, li);
    list.prepend(li);
  }
  empty.hidden = views.size > 0;
  const title = (task.result && task.result.title) || task.request.topic;
  li.className = `task ${task.status}`;
  li.querySelector(".task-title").textContent = title;
  li.querySelector(".task-status").textContent = task.status;
  const pct = Math.round((task.progress || 0) * 100);
  const bar = li.querySelector(".bar");
  bar.setAttribute("aria-valuenow", String(pct));
  bar.setAttribute("aria-label", `Progress of ${title}`);
  bar.querySelector(".fill").style.width = `${pct}%`;
  const detail = li.querySelector(".task-detail");
  if (task.status === "queued" && task.queue_position != null) {
    // "3rd in line · about 1 min" (the wait and the render, at the recent pace)
    const eta = task.eta_seconds != null ? ` · ${about(task.eta_seconds)}` : "";
    detail.textContent = `${ordinal(task.queue_position)} in line${eta}`;
  } else if (task.status === "running" || task.status === "queued") {
    const eta = task.eta_seconds != null ? ` · ${about(task.eta_seconds)} left` : "";
    detail.textContent = `${task.stage} · ${pct}%${eta}`;
  } else if (task.status === "review") {
    detail.textContent = "The scenes are ready: review them, then approve.";
  } else if (task.status === "done") {
    const r = task.result;
    const notes = [r.voice_fallback, r.visuals_note].filter(Boolean).join(" · ");
    detail.textContent = `${r.duration.toFixed(1)} s · voice: ${r.voice_engine} · ` +
      `script: ${r.script_source}${notes ? ` · ${notes}` : ""}`;
  } else {
    detail.textContent = task.status;
  }
  const error = li.querySelector(".task-error");
  error.hidden = !task.error;
  if (task.error) error.textContent = `Failed at ${task.error.stage}: ${task.error.message}`;
  li.querySelector(".cancel").hidden = !(task.status === "queued" || task.status === "running");
  storyboardButtons(li, task);  // storyboard.js
  const result = li.querySelector(".task-result");
  if (task.status === "done" && result.hidden) {
    const video = result.querySelector("video");
    video.poster = task.links.thumbnail;
    video.src = task.links.video;
    result.querySelector(".dl-video").href = `${task.links.video}?download=1`;
    result.querySelector(".dl-srt").href = `${task.links.subtitles}?download=1`;
    result.querySelector(".dl-vtt").href = `${task.links.subtitles}?format=vtt&download=1`;
    result.querySelector(".dl-ass").href = `${task.links.subtitles}?format=ass&download=1`;
    result.hidden = false;
  }
}

async function refresh() {
  try {
    const { tasks } = await api("/api/tasks");
    tasks.slice().reverse().forEach(render);
    const active = tasks.some((t) => t.status === "queued" || t.status === "running") ||
      tasks.some((t) => t.id === reviewWanted);
    idlePolls = active ? 0 : idlePolls + 1;
  } catch (e) {
    idlePolls += 1;
  }
  schedule();
}

function schedule(delay) {
  clearTimeout(pollTimer);
  // Poll every second while something runs; back off to 15 s when idle.
  const wait = delay !== undefined ? delay : Math.min(1000 * 2 ** Math.min(idlePolls, 4), 15000);
  pollTimer = setTimeout(refresh, wait);
}

async function cancelTask(id) {
  try { render(await api(`/api/task/${id}/cancel`, { method: "POST" })); } catch (e) { /* shown on next poll */ }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  formError.hidden = true;
  const data = formData();  // multipart: carries the optional files
  const button = document.getElementById("submit");
  button.disabled = true;
  try {
    const { task_id } = await api("/api/create", { method: "POST", body: data });
    if (data.get("review")) wantReview(task_id);  // storyboard.js opens its cards when ready
    render(await api(`/api/task/${task_id}`));
    idlePolls = 0;
    schedule(500);
    document.getElementById("topic").value = "";
    document.getElementById("backgrounds").value = "";
    document.getElementById("music").value = "";
    document.getElementById("font").value = "";
    document.getElementById("font").dispatchEvent(new Event("change"));  // the preview drops it
  } catch (e) {
    formError.textContent = e.message;
    formError.hidden = false;
  } finally {
    button.disabled = false;
  }
});

refresh();

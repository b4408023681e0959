// Reelsmith page: the "Publish" panel of a finished video (POST
// /api/task/<id>/publish), its publications' progress and links. Uses app.js's
// api(); every server string is set with textContent, never as HTML.
"use strict";

(function () {
  const template = document.getElementById("publish-template");
  const taskList = document.getElementById("tasks");
  if (!template || !taskList) return;
  const panels = new Map();  // task id -> panel element
  const polls = new Map();  // task id -> timer
  let accounts = null;
  const NAMES = { youtube: "YouTube", tiktok: "TikTok" };

  async function loadAccounts() {
    try { accounts = (await api("/api/accounts")).accounts; } catch (e) { accounts = []; }
    panels.forEach(showAccounts);
  }

  function showAccounts(panel) {
    const line = panel.querySelector(".publish-accounts");
    if (!accounts) { line.textContent = "Checking the connected accounts…"; return; }
    line.textContent = accounts.map((a) => {
      const name = NAMES[a.platform] || a.platform;
      if (!a.connected) return `${name}: not connected (run ${a.connect})`;
      return `${name}: connected${a.account ? ` as ${a.account}` : ""}`;
    }).join(" · ");
  }

  function showPublications(panel, publications) {
    const list = panel.querySelector(".publications");
    list.replaceChildren();
    for (const p of publications) {
      const item = document.createElement("li");
      item.className = `publication ${p.status}`;
      const name = NAMES[p.platform] || p.platform;
      const pct = Math.round((p.progress || 0) * 100);
      const head = document.createElement("span");
      head.textContent = `${name}${p.account ? ` (${p.account})` : ""}: ${p.status}` +
        (p.status === "uploading" ? ` ${pct}%` : "");
      item.append(head);
      if (p.status === "queued" || p.status === "uploading") {
        const bar = document.createElement("progress");
        bar.max = 100;
        bar.value = pct;
        bar.setAttribute("aria-label", `Upload to ${name}`);
        item.append(" ", bar);
      }
      if (p.url) {
        const link = document.createElement("a");
        link.href = p.url;
        link.rel = "noopener";
        link.target = "_blank";
        link.textContent = "Open";
        item.append(" ", link);
      }
      for (const text of [p.error, ...(p.notes || [])].filter(Boolean)) {
        const note = document.createElement("p");
        note.className = text === p.error ? "error" : "hint";
        note.textContent = text;
        item.append(note);
      }
      list.append(item);
    }
  }

  async function follow(taskId) {
    clearTimeout(polls.get(taskId));
    const panel = panels.get(taskId);
    try {
      const task = await api(`/api/task/${taskId}`);
      const publications = task.publications || [];
      showPublications(panel, publications);
      if (publications.some((p) => p.status === "queued" || p.status === "uploading")) {
        polls.set(taskId, setTimeout(() => follow(taskId), 1500));
      }
    } catch (e) { /* the task list shows the task's own errors */ }
  }

  function request(form) {
    const data = new FormData(form);
    const body = { platform: data.get("platform"), privacy: data.get("privacy") };
    for (const name of ["title", "description"]) {
      const value = (data.get(name) || "").trim();
      if (value) body[name] = value;
    }
    const tags = (data.get("tags") || "").split(",").map((t) => t.trim()).filter(Boolean);
    if (tags.length) body.tags = tags;
    if (data.get("publish_at")) body.publish_at = new Date(data.get("publish_at")).toISOString();
    if (data.get("made_for_kids")) body.made_for_kids = data.get("made_for_kids") === "true";
    if (data.get("direct")) body.direct = true;
    if (data.get("force")) body.force = true;
    return body;
  }

  function attach(li) {
    const taskId = li.dataset.taskId;
    const result = li.querySelector(".task-result");
    if (!taskId || panels.has(taskId) || !li.classList.contains("done") || result.hidden) return;
    const panel = template.content.firstElementChild.cloneNode(true);
    panels.set(taskId, panel);
    const form = panel.querySelector("form");
    form.elements.title.value = li.querySelector(".task-title").textContent.slice(0, 100);
    const platform = form.elements.platform;
    const onPlatform = () => {
      const youtube = platform.value === "youtube";
      panel.querySelector(".youtube-only").hidden = !youtube;
      panel.querySelector(".tiktok-only").hidden = youtube;
    };
    platform.addEventListener("change", onPlatform);
    onPlatform();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = panel.querySelector(".publish-error");
      error.hidden = true;
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        await api(`/api/task/${taskId}/publish`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(request(form)),
        });
        follow(taskId);
      } catch (e) {
        error.textContent = e.message;
        error.hidden = false;
      } finally {
        button.disabled = false;
      }
    });
    result.append(panel);
    showAccounts(panel);
    if (accounts === null) loadAccounts();
    follow(taskId);
  }

  function scan() { taskList.querySelectorAll("li.task.done").forEach(attach); }
  new MutationObserver(scan).observe(taskList, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["class", "hidden"],
  });
  scan();
})();

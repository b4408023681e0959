// Reelsmith page: the storyboard. Scene cards to edit, add, remove and move,
// then "Render": a new video (after "Write script"), an approval (a task in
// review) or a revision (a finished video's "Edit scenes").
// Uses app.js's api(), formData(), render(), schedule() and form. Text is set with
// textContent and .value only, never as HTML.
"use strict";

const board = document.getElementById("storyboard");
const sceneList = document.getElementById("scenes");
const sceneTemplate = document.getElementById("scene-template");
const boardHeading = document.getElementById("storyboard-heading");
const boardNote = document.getElementById("storyboard-note");
const boardError = document.getElementById("storyboard-error");
const boardRender = document.getElementById("storyboard-render");
const writeButton = document.getElementById("write-script");
const VISUAL_KEYS = ["source", "query", "prompt", "url", "upload"];
const MODES = {
  create: { title: "Scenes", action: "Render", note: "Edit any scene, then render the video." },
  approve: {
    title: "Scenes to approve",
    action: "Approve and render",
    note: "The video waits for you: edit any scene, then approve it.",
  },
  revise: {
    title: "Edit scenes",
    action: "Re-render",
    note: "Only the scenes you change are rendered again.",
  },
};
let boardMode = null;  // { kind: "create" | "approve" | "revise", taskId }
let sceneSeq = 0;
let reviewWanted = null;  // the task created with "review": its cards open when it is ready

function sceneField(li, name) { return li.querySelector(`[data-id="${name}"]`); }
function cards() { return Array.from(sceneList.children); }

function sceneCard(scene) {
  const li = sceneTemplate.content.firstElementChild.cloneNode(true);
  const uid = `scene-${++sceneSeq}`;
  li.querySelectorAll("[data-id]").forEach((el) => { el.id = `${uid}-${el.dataset.id}`; });
  li.querySelectorAll("label[data-for]").forEach((l) => { l.htmlFor = `${uid}-${l.dataset.for}`; });
  li.visual = {};
  VISUAL_KEYS.forEach((k) => { li.visual[k] = (scene.visual && scene.visual[k]) || null; });
  li.extra = { voice: scene.voice || null, seconds: scene.seconds || null };
  sceneField(li, "text").value = scene.text || "";
  sceneField(li, "query").value = li.visual.query || "";
  sceneField(li, "prompt").value = li.visual.prompt || "";
  const thumb = li.querySelector(".scene-thumb");
  thumb.hidden = !scene.thumbnail_url;
  if (scene.thumbnail_url) thumb.src = scene.thumbnail_url;
  const picked = () => {  // new words or a new file choose the picture: not the old one
    li.visual.source = null;
    li.visual.url = null;
    li.visual.upload = null;
  };
  sceneField(li, "query").addEventListener("input", picked);
  sceneField(li, "prompt").addEventListener("input", picked);
  sceneField(li, "file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    picked();
    if (file && file.type.startsWith("image/")) {
      thumb.src = URL.createObjectURL(file);
      thumb.hidden = false;
    }
  });
  li.querySelector(".scene-up").addEventListener("click", () => moveScene(li, -1));
  li.querySelector(".scene-down").addEventListener("click", () => moveScene(li, 1));
  li.querySelector(".scene-remove").addEventListener("click", () => removeScene(li));
  return li;
}

// Numbers, names and the move buttons follow each card's place.
function numberScenes() {
  const all = cards();
  all.forEach((li, i) => {
    const n = i + 1;
    li.querySelector(".scene-n").textContent = String(n);
    li.querySelector(".scene-thumb").alt = `The picture of scene ${n}`;
    li.querySelector(".scene-up").setAttribute("aria-label", `Move up: scene ${n}`);
    li.querySelector(".scene-down").setAttribute("aria-label", `Move down: scene ${n}`);
    li.querySelector(".scene-remove").setAttribute("aria-label", `Remove scene ${n}`);
    li.querySelector(".scene-up").disabled = i === 0;
    li.querySelector(".scene-down").disabled = i === all.length - 1;
    li.querySelector(".scene-remove").disabled = all.length === 1;
  });
}

function moveScene(li, step) {
  const all = cards();
  const to = all.indexOf(li) + step;
  if (to < 0 || to >= all.length) return;
  if (step < 0) sceneList.insertBefore(li, all[to]);
  else sceneList.insertBefore(li, all[to].nextSibling);
  numberScenes();
  const same = li.querySelector(step < 0 ? ".scene-up" : ".scene-down");
  (same.disabled ? li.querySelector(step < 0 ? ".scene-down" : ".scene-up") : same).focus();
}

function removeScene(li) {
  const all = cards();
  const next = all[all.indexOf(li) + 1] || all[all.indexOf(li) - 1];
  li.remove();
  numberScenes();
  if (next) sceneField(next, "text").focus();
}

function openBoard(scenes, mode) {
  boardOpener = document.activeElement;
  boardMode = mode;
  const words = MODES[mode.kind];
  board.dataset.mode = mode.kind;
  boardHeading.textContent = words.title;
  boardNote.textContent = mode.kind === "create" ? words.note
    : `${words.note} Your own pictures go in a new video ("Write script").`;
  boardRender.textContent = words.action;
  boardError.hidden = true;
  sceneList.replaceChildren(...scenes.map(sceneCard));
  numberScenes();
  board.hidden = false;
  boardHeading.focus();
}

let boardOpener = null;  // the button that opened the cards: focus goes back there

function closeBoard() {
  board.hidden = true;
  sceneList.replaceChildren();
  boardMode = null;
  if (boardOpener && document.body.contains(boardOpener) && !boardOpener.hidden) {
    boardOpener.focus();
  }
}

// The cards as the API's scenes; the files chosen for them, by the name each scene uses.
function collectScenes() {
  const files = [];
  const scenes = cards().map((li, i) => {
    const visual = Object.assign({}, li.visual);
    visual.query = sceneField(li, "query").value.trim() || null;
    visual.prompt = sceneField(li, "prompt").value.trim() || null;
    const file = boardMode.kind === "create" && sceneField(li, "file").files[0];
    if (file) {
      visual.upload = `scene${i + 1}-${file.name}`;
      files.push([file, visual.upload]);
    }
    return { text: sceneField(li, "text").value.trim(), visual, ...li.extra };
  });
  return { scenes, files };
}

function showBoardError(error) {
  boardError.textContent = error.message;
  boardError.hidden = false;
  const match = /^scenes\[(\d+)\]\.?(\w+)?/.exec(error.field || "");
  const li = match && cards()[Number(match[1])];
  if (li) {  // the scene the error names: focus its field
    const field = { text: "text", visual: "query" }[match[2]] || "text";
    sceneField(li, field).focus();
  }
}

async function renderBoard() {
  boardError.hidden = true;
  const { scenes, files } = collectScenes();
  const empty = scenes.findIndex((s) => !s.text);
  if (empty >= 0) {
    showBoardError({ message: `Scene ${empty + 1} says nothing: write its text or remove it.`,
      field: `scenes[${empty}].text` });
    return;
  }
  boardRender.disabled = true;
  try {
    let taskId;
    const json = (body) => ({
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    if (boardMode.kind === "create") {
      const data = formData();
      ["script", "backgrounds", "review"].forEach((name) => data.delete(name));
      files.forEach(([file, name]) => data.append("backgrounds", file, name));
      data.set("scenes", JSON.stringify(scenes));
      ({ task_id: taskId } = await api("/api/create", { method: "POST", body: data }));
    } else if (boardMode.kind === "approve") {
      taskId = boardMode.taskId;
      await api(`/api/task/${taskId}/approve`, json({ scenes }));
    } else {
      ({ task_id: taskId } = await api(`/api/task/${boardMode.taskId}/revise`, json({ scenes })));
    }
    closeBoard();
    render(await api(`/api/task/${taskId}`));
    idlePolls = 0;
    schedule(500);
    const li = views.get(taskId);
    if (li) li.querySelector(".task-title").focus();
  } catch (e) {
    showBoardError(e);
  } finally {
    boardRender.disabled = false;
  }
}

writeButton.addEventListener("click", async () => {
  formError.hidden = true;
  const data = formData();
  data.delete("review");
  writeButton.disabled = true;
  writeButton.textContent = "Writing…";
  try {
    const { scenes } = await api("/api/storyboard", { method: "POST", body: data });
    openBoard(scenes, { kind: "create" });
  } catch (e) {
    formError.textContent = e.message;
    formError.hidden = false;
  } finally {
    writeButton.disabled = false;
    writeButton.textContent = "Write script";
  }
});

document.getElementById("scene-add").addEventListener("click", () => {
  const li = sceneCard({ text: "" });
  sceneList.append(li);
  numberScenes();
  sceneField(li, "text").focus();
});
boardRender.addEventListener("click", renderBoard);
document.getElementById("storyboard-close").addEventListener("click", closeBoard);
board.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeBoard();
});

// A task in review, or a finished video: its cards.
function openTaskScenes(task) {
  if (task.status === "review") {
    openBoard(task.result.storyboard, { kind: "approve", taskId: task.id });
  } else {
    // each scene's thumbnail, as the task's storyboard route serves it
    const scenes = task.result.scenes.map((scene, i) =>
      Object.assign({ thumbnail_url: `/api/storyboard/${task.id}/${i}.jpg` }, scene));
    openBoard(scenes, { kind: "revise", taskId: task.id });
  }
}

// Called by app.js's render() for every task it shows.
function storyboardButtons(li, task) {
  const review = li.querySelector(".review-scenes");
  const edit = li.querySelector(".edit-scenes");
  if (!li.dataset.scenesWired) {
    li.dataset.scenesWired = "yes";
    review.addEventListener("click", () => openTaskScenes(li.task));
    edit.addEventListener("click", () => openTaskScenes(li.task));
  }
  li.task = task;
  review.hidden = !(task.status === "review" && task.result && task.result.storyboard);
  edit.hidden = !(task.status === "done" && task.links && task.result && task.result.scenes);
  if (task.id === reviewWanted && !review.hidden) {
    reviewWanted = null;
    openTaskScenes(task);
  }
}

// app.js's submit: a task created with "review" opens its cards when ready.
function wantReview(taskId) { reviewWanted = taskId; }

// Caption style picker: a preset, then any field changed on top of it. The
// chosen style goes into the form's hidden caption_style field as JSON, and
// the preview is a real frame from POST /api/preview, redrawn as you pick.
// A font file of your own is sent with the preview (multipart), as with the task.
"use strict";

(function () {
  const picker = document.getElementById("captions-picker");
  if (!picker) return;
  const presets = JSON.parse(picker.dataset.presets);
  const presetSelect = document.getElementById("cap-preset");
  const hidden = document.getElementById("caption_style");
  const image = document.getElementById("cap-preview");
  const note = document.getElementById("cap-preview-note");
  const fontFile = document.getElementById("font");
  const controls = [...picker.querySelectorAll("[data-field]")];
  const changed = new Set();  // fields the user set on top of the preset
  let pending = null;
  let inFlight = null;
  let lastUrl = null;

  function value(control) {
    if (control.type === "checkbox") return control.checked;
    if (control.type === "range") return Number(control.value);
    if (control.type === "color") return control.value.toUpperCase();
    return control.value;
  }

  function show(preset) {
    const style = presets[preset];
    controls.forEach((control) => {
      const v = style[control.dataset.field];
      if (control.type === "checkbox") control.checked = Boolean(v);
      else control.value = control.type === "color" ? String(v).toLowerCase() : v;
    });
  }

  function style() {
    const chosen = { preset: presetSelect.value };
    controls.forEach((control) => {
      if (changed.has(control.dataset.field)) chosen[control.dataset.field] = value(control);
    });
    return chosen;
  }

  async function redraw() {
    const chosen = style();
    hidden.value = JSON.stringify(chosen);
    if (inFlight) inFlight.abort();
    inFlight = new AbortController();
    const headers = {};
    const saved = localStorage.getItem("reelsmith-token");
    if (saved) headers.Authorization = `Bearer ${saved}`;
    const topic = document.getElementById("topic").value.trim();
    const aspect = document.getElementById("aspect").value;
    const font = fontFile && fontFile.files.length ? fontFile.files[0] : null;
    let body;
    if (font) {  // multipart (the browser sets its Content-Type and boundary)
      body = new FormData();
      body.append("topic", topic);
      body.append("aspect", aspect);
      body.append("caption_style", JSON.stringify(chosen));
      body.append("font", font);
    } else {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify({ topic, aspect, caption_style: chosen });
    }
    try {
      const response = await fetch("/api/preview", {
        method: "POST", headers, signal: inFlight.signal, body,
      });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        note.textContent = body.error || `preview failed (HTTP ${response.status})`;
        return;
      }
      const url = URL.createObjectURL(await response.blob());
      image.src = url;
      if (lastUrl) URL.revokeObjectURL(lastUrl);
      lastUrl = url;
      note.textContent = `Preview: the render's own frame (${chosen.preset}` +
        `${font ? `, font ${font.name}` : ""}).`;
    } catch (e) {
      if (e.name !== "AbortError") note.textContent = "preview unavailable";
    }
  }

  function later() {  // one preview per pause in typing or dragging
    clearTimeout(pending);
    pending = setTimeout(redraw, 150);
  }

  presetSelect.addEventListener("change", () => {
    changed.clear();
    show(presetSelect.value);
    later();
  });
  controls.forEach((control) => control.addEventListener("input", () => {
    changed.add(control.dataset.field);
    later();
  }));
  document.getElementById("aspect").addEventListener("change", later);
  document.getElementById("topic").addEventListener("change", later);
  if (fontFile) fontFile.addEventListener("change", later);  // app.js fires it when it clears
  show(presetSelect.value);
  redraw();
})();

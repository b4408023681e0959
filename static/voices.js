// Voice picker: every voice this machine has (from /api/voices), filtered by
// the language typed, with a sample to listen to; the speed slider; language
// names; which script writer is in use; and, for your own script, how long
// the video will be before you submit it.
"use strict";

(function () {
  const voiceSelect = document.getElementById("voice");
  const language = document.getElementById("language");
  const speed = document.getElementById("speed");
  const speedValue = document.getElementById("speed-value");
  const play = document.getElementById("voice-play");
  const sample = document.getElementById("voice-sample");
  const script = document.getElementById("script");
  const estimate = document.getElementById("script-estimate");
  const writer = document.getElementById("writer-mode");
  let voices = [];
  let engines = [];
  let pace = 2.5;  // words a second at speed 1, until /api/status says

  function headers() {
    const saved = localStorage.getItem("reelsmith-token");
    return saved ? { Authorization: `Bearer ${saved}` } : {};
  }

  function base(code) { return (code || "").toLowerCase().split(/[-_]/)[0]; }

  function fillVoices() {
    const wanted = base(language.value);
    const chosen = voiceSelect.value;
    voiceSelect.replaceChildren();
    const auto = document.createElement("option");
    auto.value = "auto";
    auto.textContent = "auto: the best voice for the language";
    voiceSelect.append(auto);
    engines.forEach((engine) => {
      const option = document.createElement("option");
      option.value = engine.engine;
      option.textContent = `${engine.engine}: ${engine.description}`;
      option.disabled = engine.available === false;
      if (engine.unavailable_reason) option.title = engine.unavailable_reason;
      voiceSelect.append(option);
    });
    const byEngine = new Map();
    voices.filter((v) => base(v.language) === wanted).forEach((v) => {
      if (!byEngine.has(v.engine)) byEngine.set(v.engine, []);
      byEngine.get(v.engine).push(v);
    });
    byEngine.forEach((list, engine) => {
      const group = document.createElement("optgroup");
      group.label = `${engine} voices`;
      list.forEach((v) => {
        const option = document.createElement("option");
        option.value = v.id;
        const details = [v.language, v.gender, v.offline ? "offline" : "online",
          v.word_timings ? "word timing" : null].filter(Boolean).join(", ");
        option.textContent = `${v.name} (${details})`;
        group.append(option);
      });
      voiceSelect.append(group);
    });
    voiceSelect.value = [...voiceSelect.options].some((o) => o.value === chosen) ? chosen : "auto";
  }

  async function load() {
    try {
      const response = await fetch("/api/voices", { headers: headers() });
      if (!response.ok) return;
      const body = await response.json();
      voices = body.voices;
      engines = body.engines;
      const list = document.getElementById("languages");
      Object.entries(body.languages).sort((a, b) => a[1].localeCompare(b[1])).forEach(([code, name]) => {
        const option = document.createElement("option");
        option.value = code;
        option.label = name;
        option.textContent = name;
        list.append(option);
      });
      fillVoices();
    } catch (e) { /* the field still accepts any engine name */ }
    try {
      const response = await fetch("/api/status", { headers: headers() });
      if (!response.ok) return;
      const status = await response.json();
      pace = status.words_per_second || pace;
      const w = status.writer;
      if (w.writer === "offline") {
        // the server's hint already says it is the offline writer: once is enough
        writer.textContent = w.hint
          || "Scripts come from the built-in offline writer: placeholders, not real explainers.";
      } else {
        writer.textContent = `Scripts are written by ${w.model || "a model"} (${w.writer}${w.discovered ? ", found on this machine" : ""}).`;
      }
      showEstimate();
    } catch (e) { /* keep the server's own note */ }
  }

  function showEstimate() {
    // Your own script: words at the voice's pace and the speed chosen, plus the
    // pauses the render adds (0.4 s lead-in, 0.3 s between sentences, 0.8 s tail).
    const text = script.value.trim();
    if (!text) { estimate.textContent = ""; return; }
    const sentences = text.split(/(?<=[.!?。！？])\s*/).filter((s) => s.trim()).length;
    const cjk = (text.match(/[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/g) || []).length;
    const words = text.split(/\s+/).filter(Boolean).length + cjk;
    const seconds = words / (pace * Number(speed.value)) + 0.4 + 0.3 * Math.max(0, sentences - 1) + 0.8;
    estimate.textContent = `About ${Math.round(seconds)} s of video (${words} words, ${sentences} sentences).`;
  }

  speed.addEventListener("input", () => {
    speedValue.textContent = `${Number(speed.value).toFixed(2)}×`;
    showEstimate();
  });
  language.addEventListener("change", fillVoices);
  script.addEventListener("input", showEstimate);
  play.addEventListener("click", async () => {
    play.disabled = true;
    try {
      const id = encodeURIComponent(voiceSelect.value).replace(/%3A/g, ":");
      const response = await fetch(`/api/voices/${id}/preview?language=${encodeURIComponent(language.value || "en")}`,
        { headers: headers() });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        play.title = body.error || "no sample";
        return;
      }
      sample.src = URL.createObjectURL(await response.blob());
      await sample.play().catch(() => {});
    } finally {
      play.disabled = false;
    }
  });
  load();
})();

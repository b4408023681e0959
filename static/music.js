// Music picker: auto, none, a mood, or one of the bundled tracks (from
// /api/music), each with a preview to listen to; or your own file, which the
// server takes instead of the choice.
"use strict";

(function () {
  const choice = document.getElementById("music-choice");
  const play = document.getElementById("music-play");
  const sample = document.getElementById("music-sample");
  const note = document.getElementById("music-note");
  const file = document.getElementById("music");
  if (!choice) return;
  let tracks = [];
  let licence = "";
  let playing = null;  // the track id being played

  function headers() {
    const saved = localStorage.getItem("reelsmith-token");
    return saved ? { Authorization: `Bearer ${saved}` } : {};
  }

  // The track a choice would play: the track itself, or a mood's first track.
  function trackFor(value) {
    return tracks.find((t) => t.id === value) || tracks.find((t) => t.mood === value) || null;
  }

  function describe() {
    const value = choice.value;
    const track = trackFor(value);
    if (file.files && file.files.length) {
      note.textContent = `Your file ${file.files[0].name} is used instead.`;
    } else if (value === "auto") {
      note.textContent = "A mood is chosen from the tone and the topic; the result names the track.";
    } else if (value === "none") {
      note.textContent = "No music: the voice alone.";
    } else if (track && track.id === value) {
      note.textContent = `${track.mood}, ${track.tempo} bpm${track.key ? `, ${track.key}` : ""}. ${track.licence}`;
    } else if (track) {
      note.textContent = `One of the ${value} tracks, the same for the same topic; listen to ${track.id}. ${licence}`;
    }
    play.disabled = !track;
    stop();
  }

  function stop() {
    sample.pause();
    playing = null;
    play.textContent = "▶ Listen";
  }

  function fill(body) {
    tracks = body.tracks;
    licence = body.licence;
    const chosen = choice.value;
    const moods = document.createElement("optgroup");
    moods.label = "Moods";
    body.moods.forEach((mood) => {
      const option = document.createElement("option");
      option.value = mood;
      option.textContent = `${mood} (${tracks.filter((t) => t.mood === mood).length} tracks)`;
      moods.append(option);
    });
    choice.append(moods);
    body.moods.forEach((mood) => {
      const group = document.createElement("optgroup");
      group.label = `${mood} tracks`;
      tracks.filter((t) => t.mood === mood).forEach((t) => {
        const option = document.createElement("option");
        option.value = t.id;
        option.textContent = `${t.id} (${t.tempo} bpm)`;
        group.append(option);
      });
      choice.append(group);
    });
    choice.value = chosen;
    describe();
  }

  async function load() {
    try {
      const response = await fetch("/api/music", { headers: headers() });
      if (response.ok) fill(await response.json());
    } catch (e) { /* auto and none still work */ }
    describe();
  }

  play.addEventListener("click", async () => {
    const track = trackFor(choice.value);
    if (!track) return;
    if (playing === track.id) { stop(); return; }
    if (play.getAttribute("aria-busy") === "true") return;
    play.setAttribute("aria-busy", "true");  // (not disabled: the button keeps the focus)
    try {
      const response = await fetch(track.preview_url, { headers: headers() });
      if (!response.ok) { note.textContent = "This track could not be loaded."; return; }
      if (sample.src.startsWith("blob:")) URL.revokeObjectURL(sample.src);
      sample.src = URL.createObjectURL(await response.blob());
      playing = track.id;
      play.textContent = "■ Stop";
      await sample.play().catch(() => {});
    } finally {
      play.removeAttribute("aria-busy");
    }
  });
  sample.addEventListener("ended", stop);
  choice.addEventListener("change", describe);
  file.addEventListener("change", describe);
  load();
})();

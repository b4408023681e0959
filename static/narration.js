// "Your own recording": a narration file instead of a voice. While it is on,
// the recording goes with the form (the file input is enabled), the voice and
// speed are left out (disabled inputs are not sent) and the script is asked for.
(() => {
  const toggle = document.getElementById("own-recording");
  const block = document.getElementById("narration-block");
  const file = document.getElementById("narration");
  const note = document.getElementById("narration-note");
  const script = document.getElementById("script");
  const voiceInputs = ["voice", "speed", "voice-play"].map((id) => document.getElementById(id)).filter(Boolean);
  if (!toggle || !block || !file) return;

  function apply() {
    const on = toggle.checked;
    block.hidden = !on;
    file.disabled = !on;
    if (!on) file.value = "";
    voiceInputs.forEach((input) => { input.disabled = on; });
    if (script) script.required = on;
    note.textContent = on ? "No voice speaks: the video follows your recording." : "";
  }

  toggle.addEventListener("change", apply);
  file.addEventListener("change", () => {
    const chosen = file.files && file.files[0];
    note.textContent = chosen ? `${chosen.name}: ${(chosen.size / 1e6).toFixed(1)} MB` : "";
  });
  apply();
})();

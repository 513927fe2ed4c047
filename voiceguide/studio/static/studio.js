// voiceguide studio: the page's state, sent to the studio as JSON. No libraries.
"use strict";

const start = JSON.parse(document.getElementById("start").textContent);
const $ = (id) => document.getElementById(id);
const state = {
  routine: null,
  programme: null, // when set, the page edits this programme (programme.js), not the routine
  own: {}, // the person's routine files the programme may name, by file name
  opened: null, // the file last opened (JSON), for the Routine select to come back to
  templates: Object.fromEntries(start.templates.map((t) => [t.name, t.text])),
};
const builtin = Object.fromEntries(start.templates.map((t) => [t.name, t]));

// --- talking to the studio --------------------------------------------------------

async function post(url, body, raw) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": raw ? "application/octet-stream" : "application/json" },
    body: raw ? body : JSON.stringify(body),
  });
  return response;
}

async function answer(response) {
  const data = await response.json().catch(() => ({ error: "the studio gave no answer" }));
  if (!response.ok && !data.error) data.error = `the studio answered ${response.status}`;
  return data;
}

// The routine or the programme: what the title and the extras belong to.
const current = () => state.programme || state.routine;

// What the form showed when it was chosen, to tell whether the person has changed it since.
// Compared as the form would send it: the extras as the form reads them (so that an
// extra switched off and on again is no change), and a field emptied (null) as absent.
let shown = { choice: null, content: "" };
const contentNow = () => JSON.stringify(
  [{ ...current(), extras: formExtras(current().extras || {}) }, state.own],
  (_, value) => (value === null ? undefined : value));
function remember() { shown = { choice: $("routine").value, content: contentNow() }; }
// Whether to go on to another routine or programme: yes if nothing was changed, else ask.
function mayLeave() {
  if (contentNow() === shown.content) return true;
  const kind = state.programme ? "programme" : "routine";
  return window.confirm(`Your changes to "${current().title || `this ${kind}`}" are not saved. ` +
    `Open the other one and lose them? (To keep them, cancel, then Save the ${kind}.)`);
}

function draft() {
  const content = state.programme
    ? { programme: state.programme, own_routines: state.own } : { routine: state.routine };
  return {
    ...content,
    hold: $("hold").value,
    templates: state.templates,
    engine: $("engine").value,
    voice: $("voice").value || null,
    rate: Number($("rate").value) || start.rate,
  };
}

function showError(id, message) {
  const el = $(id);
  el.textContent = message || "";
  el.hidden = !message;
}

function clearErrors() {
  for (const id of ["hold-error", "routine-error", "programme-error", "voice-error", "template-error",
    "plan-error"]) {
    showError(id, "");
  }
  $("template-go").hidden = true;
}

// Where a problem shows: next to the part of the page it is about.
function placeError(where, message) {
  $("template-go").hidden = true;
  if (where === "hold") showError("hold-error", message);
  else if (where === "voice") showError("voice-error", message);
  else if (where === "programme") showError("programme-error", message);
  else if (where === "open") showError("keep-error", message);
  else if (builtin[where]) {
    $("wording-box").open = true;
    showError("template-error", message);
    if ($("template").value === where) return;
    // Never change the cue under someone typing in another: what they type next would
    // land in the cue with the mistake. Offer to go there instead.
    if (document.activeElement === $("template-text")) {
      $("template-go").textContent = `Show the ${where} cue`;
      $("template-go").dataset.cue = where;
      $("template-go").hidden = false;
    } else { $("template").value = where; showTemplate(); }
  } else showError("routine-error", message);
}

// --- the form ---------------------------------------------------------------------

function itemRow(list, index, item, kind) {
  const li = document.createElement("li");
  const row = document.createElement("div");
  row.className = "item";
  const number = index + 1;
  const id = `${kind}-${number}`;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.className = "visually-hidden";
  label.textContent = kind === "step" ? `Step ${number}` : `Reminder ${number}`;
  const text = document.createElement("input");
  text.id = id;
  text.className = "text";
  text.value = item.text;
  text.addEventListener("input", () => { list[index].text = text.value; changed(); });
  row.append(label, text);
  if (kind === "step") {
    const pauseLabel = document.createElement("label");
    pauseLabel.htmlFor = `${id}-pause`;
    pauseLabel.textContent = "pause";
    const pause = document.createElement("input");
    pause.id = `${id}-pause`;
    pause.className = "pause";
    pause.placeholder = String(state.routine.step_pause || "4s");
    pause.value = item.pause === undefined || item.pause === null ? "" : String(item.pause);
    pause.setAttribute("aria-label", `Pause after step ${number}`);
    pause.addEventListener("input", () => { list[index].pause = pause.value.trim() || null; changed(); });
    row.append(pauseLabel, pause);
  }
  const what = kind === "step" ? `step ${number}` : `reminder ${number}`;
  for (const [sign, name, move] of [["↑", "Move up", -1], ["↓", "Move down", 1], ["✕", "Remove", 0]]) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = sign;
    button.setAttribute("aria-label", `${name} ${what}`);
    button.addEventListener("click", () => {
      if (move === 0) list.splice(index, 1);
      else {
        const to = index + move;
        if (to < 0 || to >= list.length) return;
        [list[index], list[to]] = [list[to], list[index]];
      }
      renderItems();
      changed();
    });
    row.append(button);
  }
  li.append(row);
  return li;
}

function renderItems() {
  for (const [kind, key] of [["step", "steps"], ["reminder", "reminders"]]) {
    const ol = $(key);
    const list = state.routine[key];
    ol.replaceChildren(...list.map((item, i) => itemRow(list, i, item, kind)));
  }
}

const items = (values) => (values || []).map((v) => (typeof v === "string" ? { text: v } : { ...v }));
const extras = () => current().extras || (current().extras = {});

// Show the parts of the form for a routine, or those for a programme.
function showKind(programme) {
  for (const el of document.querySelectorAll(".for-routine")) el.hidden = programme;
  for (const el of document.querySelectorAll(".for-programme")) el.hidden = !programme;
  $("hold-hint").textContent = programme
    ? "every exercise's hold, such as 45s; leave it empty for each exercise's own"
    : "such as 30s, 2m or 1:30";
  $("save-routine").textContent = programme ? "Save the programme (YAML)" : "Save the routine (YAML)";
}

function showRoutine(routine) {
  routine.steps = items(routine.steps);
  routine.reminders = items(routine.reminders);
  state.routine = routine;
  state.programme = null;
  showKind(false);
  $("title").value = routine.title || "";
  $("why").value = routine.why || "";
  $("sides").value = (routine.sides || ["left", "right"]).join(", ");
  $("release").value = routine.release || "";
  $("outro").value = routine.outro || "";
  $("hold").value = (routine.hold && routine.hold.default) || "5m";
  showExtras(routine.extras || {});
  renderItems();
  remember();
  changed();
}

// The extras (section 4) of the routine or programme.
function showExtras(x) {
  const countdown = x.countdown && typeof x.countdown === "object" ? x.countdown : x.countdown ? {} : null;
  $("countdown").checked = Boolean(countdown);
  $("countdown-from").value = countdown && countdown.start ? countdown.start : 3;
  const pacer = x.pacer && typeof x.pacer === "object" ? x.pacer : x.pacer ? {} : null;
  $("pacer").checked = Boolean(pacer);
  $("breaths").value = pacer && pacer.breaths ? pacer.breaths : 6;
  const background = typeof x.background === "string" ? { sound: x.background } : x.background;
  $("background").value = background ? "noise" : "";
  $("start-chime").value = x.start_chime === false || x.start_chime === "off" ? "off" : "default";
  $("end-chime").value = x.end_chime === false || x.end_chime === "off" ? "off" : "default";
  $("vol-countdown").value = countdown && countdown.volume !== undefined ? countdown.volume : 0;
  $("vol-pacer").value = pacer && pacer.volume !== undefined ? pacer.volume : -20;
  $("vol-background").value = background && background.volume !== undefined ? background.volume : -28;
  $("vol-chime").value = x.chime_volume !== undefined ? x.chime_volume : 0;
}

// The extras as the form shows them, over ``x`` (what the form has no field for is kept).
function formExtras(x) {
  const number = (id) => Number($(id).value);
  const kept = x.background && typeof x.background === "object" ? x.background : {};
  return {
    ...x,
    countdown: $("countdown").checked
      ? { start: Math.round(number("countdown-from")) || 3, volume: number("vol-countdown") } : false,
    pacer: $("pacer").checked ? { breaths: number("breaths") || 6, volume: number("vol-pacer") } : false,
    background: $("background").value
      ? { ...kept, sound: "noise", volume: number("vol-background") } : false,
    start_chime: $("start-chime").value,
    end_chime: $("end-chime").value,
    chime_volume: number("vol-chime"),
  };
}

function readExtras() { Object.assign(extras(), formExtras(extras())); }

const fields = { why: "why", release: "release", outro: "outro" };
for (const [id, key] of Object.entries(fields)) {
  $(id).addEventListener("input", () => { state.routine[key] = $(id).value; changed(); });
}
$("title").addEventListener("input", () => { current().title = $("title").value; changed(); });
$("sides").addEventListener("input", () => {
  state.routine.sides = $("sides").value.split(",").map((s) => s.trim()).filter(Boolean);
  changed();
});
$("hold").addEventListener("input", changed);
for (const id of ["countdown", "countdown-from", "pacer", "breaths", "background", "start-chime",
  "end-chime", "vol-countdown", "vol-pacer", "vol-background", "vol-chime"]) {
  $(id).addEventListener("input", () => { readExtras(); changed(); });
}
for (const id of ["engine", "voice", "rate"]) $(id).addEventListener("change", changed);
$("engine").addEventListener("change", loadVoices);
$("add-step").addEventListener("click", () => {
  state.routine.steps.push({ text: "" }); renderItems(); $(`step-${state.routine.steps.length}`).focus();
});
$("add-reminder").addEventListener("click", () => {
  state.routine.reminders.push({ text: "" }); renderItems();
  $(`reminder-${state.routine.reminders.length}`).focus();
});

$("routine").addEventListener("change", async () => {
  // Opening another would throw away what was changed in this one: ask first.
  if (!mayLeave()) { $("routine").value = shown.choice; return; }
  // The form waits for the routine, so that nothing typed meanwhile is lost.
  const controls = [...$("draft").elements].filter((c) => c.id !== "routine" && !c.disabled);
  for (const control of controls) control.disabled = true;
  try {
    const chosen = $("routine").value;
    if (chosen === "opened") { showOpened(JSON.parse(state.opened)); return; }
    const programme = chosen.startsWith("programme:");
    const name = encodeURIComponent(chosen.replace(/^programme:/, ""));
    const data = await answer(await fetch(`/api/${programme ? "programmes" : "routines"}/${name}`));
    if (data.error) showError("routine-error", data.error);
    else if (programme) showProgramme(data.programme, data.own_routines);
    else showRoutine(data.routine);
  } finally {
    for (const control of controls) control.disabled = false;
  }
});

// --- the wording --------------------------------------------------------------------

function showTemplate() {
  const name = $("template").value;
  $("template-text").value = state.templates[name];
  $("template-what").textContent = `This cue ${builtin[name].what}.`;
  $("template-variables").textContent = builtin[name].variables || "none";
  markTemplates();
}

function markTemplates() {
  for (const option of $("template").options) {
    const edited = state.templates[option.value] !== builtin[option.value].text;
    option.textContent = option.value + (edited ? " (edited)" : "");
  }
  const name = $("template").value;
  $("template-changed").textContent = state.templates[name] !== builtin[name].text ? "edited" : "built-in";
}

$("template").replaceChildren(...start.templates.map((t) => new Option(t.name, t.name)));
$("template").addEventListener("change", () => {
  showError("template-error", ""); $("template-go").hidden = true; showTemplate();
});
$("template-go").addEventListener("click", () => {
  $("template").value = $("template-go").dataset.cue;
  $("template-go").hidden = true;
  showTemplate();
  $("template-text").focus();
});
$("template-text").addEventListener("input", () => {
  state.templates[$("template").value] = $("template-text").value; markTemplates(); changed();
});
$("template-reset").addEventListener("click", () => {
  const name = $("template").value;
  state.templates[name] = builtin[name].text; showTemplate(); changed();
});

// --- the timeline, planned as they edit ---------------------------------------------------

let planTimer = null;
let planning = 0;

function changed() {
  planning += 1; // a plan still on its way is out of date
  $("plan-state").textContent = "updating…";
  clearTimeout(planTimer);
  planTimer = setTimeout(replan, 400);
}

async function replan() {
  const mine = ++planning;
  let data;
  try {
    data = await answer(await post("/api/preview", draft()));
  } catch (e) {
    data = { error: `the studio cannot be reached (${e.message}); is it still running?` };
  }
  if (mine !== planning) return; // a later edit is being planned
  clearErrors();
  if (data.error) {
    placeError(data.where, data.error);
    showError("plan-error", `Not up to date: ${data.error}`);
    $("plan-state").textContent = "";
    return;
  }
  $("timeline").innerHTML = data.picture;
  $("script").innerHTML = data.script;
  $("plan-state").textContent = "up to date";
}

// --- building ------------------------------------------------------------------------

$("build").addEventListener("click", async () => {
  const button = $("build");
  showError("build-error", "");
  $("result").hidden = true;
  button.disabled = true;
  $("progress-box").hidden = false;
  $("progress-label").textContent = "Waiting for the studio";
  $("progress").value = 0;
  const data = await answer(await post("/api/build", draft())).catch((e) => ({ error: e.message }));
  if (data.error) {
    button.disabled = false;
    $("progress-box").hidden = true;
    placeError(data.where, data.error);
    showError("build-error", data.error);
    return;
  }
  const events = new EventSource(`/api/builds/${data.id}/events`);
  events.onmessage = (message) => {
    const build = JSON.parse(message.data);
    if (build.state === "queued") $("progress-label").textContent = "Waiting for the build before";
    if (build.state === "running" && build.total) {
      const share = build.done / build.total;
      $("progress").value = share;
      $("progress-label").textContent = `${build.stage}: ${Math.round(share * 100)}%`;
    }
    if (build.state === "done" || build.state === "failed") {
      events.close();
      button.disabled = false;
      $("progress-box").hidden = true;
    }
    if (build.state === "failed") showError("build-error", `The build failed: ${build.error}`);
    if (build.state === "done") showResult(build);
  };
  events.onerror = () => {
    events.close();
    button.disabled = false;
    showError("build-error", "Lost touch with the studio; is it still running?");
  };
});

function showResult(build) {
  const base = `/builds/${build.id}`;
  const s = build.summary;
  const holds = s.holds.map((h) => `${h} s`).join(", ");
  $("result-summary").textContent =
    `Built in ${s.built_in} s: ${Math.floor(s.seconds / 60)} min ${Math.round(s.seconds % 60)} s, holds ${holds}.`;
  $("player").src = `${base}/session.mp3`;
  $("download").href = `${base}/session.mp3?download=1`;
  $("transcript").href = `${base}/transcript.vtt?download=1`;
  $("result").hidden = false;
  $("player").focus();
}

// --- the voice ---------------------------------------------------------------------------

async function loadVoices() {
  const select = $("voice");
  const data = await answer(await fetch(`/api/voices?engine=${encodeURIComponent($("engine").value)}`));
  if (data.error) { showError("voice-error", data.error); return; }
  showError("voice-error", "");
  select.replaceChildren(new Option("default", ""), ...data.voices.map((v) => new Option(v.name, v.id)));
}

$("voice").addEventListener("focus", () => { if ($("voice").options.length <= 1) loadVoices(); }, { once: true });
$("sample").addEventListener("click", async () => {
  showError("voice-error", "");
  $("sample").disabled = true;
  const data = await answer(await post("/api/sample", { ...draft(), text: $("sample-text").value }));
  $("sample").disabled = false;
  if (data.error) { showError("voice-error", data.error); return; }
  const audio = $("sample-audio");
  audio.src = data.url;
  audio.hidden = false;
  audio.play().catch(() => {});
});

// --- keeping and opening ----------------------------------------------------------------------

async function saveAs(url, body, fallback) {
  showError("keep-error", "");
  const response = await post(url, body);
  if (!response.ok) { showError("keep-error", (await answer(response)).error); return; }
  const found = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = found ? found[1] : fallback;
  document.body.append(link);
  link.click();
  link.remove();
}

$("save-routine").addEventListener("click", () => {
  if (state.programme) {
    saveAs("/api/programme.yaml", { programme: state.programme, own_routines: state.own }, "programme.yaml");
  } else saveAs("/api/routine.yaml", { routine: state.routine }, "routine.yaml");
});
$("save-wording").addEventListener("click", () => saveAs("/api/wording.zip", { templates: state.templates }, "wording.zip"));
// A routine file; a programme file with the routine files it names; or a zip the studio saved.
$("open-routine").addEventListener("change", async () => {
  const files = [...$("open-routine").files];
  if (!files.length) return;
  showError("keep-error", "");
  const zip = files.find((f) => f.name.toLowerCase().endsWith(".zip"));
  let data;
  if (zip && files.length > 1) data = { error: "open a zip on its own" };
  else if (zip) data = await answer(await post("/api/open-zip", await zip.arrayBuffer(), true));
  else {
    const sent = await Promise.all(files.map(async (f) => ({ name: f.name, text: await f.text() })));
    data = await answer(await post("/api/open-routine", { files: sent }));
  }
  if (data.error) { showError("keep-error", data.error); return; }
  if (!mayLeave()) { $("open-routine").value = ""; return; }
  // The Routine select offers it too, to come back to after trying a built-in one.
  state.opened = JSON.stringify(data);
  let group = $("opened-group");
  if (!group) {
    group = document.createElement("optgroup");
    group.id = "opened-group";
    group.label = "Opened from your files";
    group.append(new Option("", "opened"));
    $("routine").append(group);
  }
  const name = (data.programme || data.routine).name;
  group.firstChild.textContent = data.programme ? `${name} (your programme)` : `${name} (your routine)`;
  $("routine").value = "opened";
  showOpened(data);
});

function showOpened(data) {
  if (data.programme) showProgramme(data.programme, data.own_routines);
  else showRoutine(data.routine);
}
$("open-wording").addEventListener("change", async () => {
  const file = $("open-wording").files[0];
  if (!file) return;
  showError("keep-error", "");
  const data = await answer(await post("/api/open-wording", await file.arrayBuffer(), true));
  if (data.error) { showError("keep-error", data.error); return; }
  Object.assign(state.templates, data.templates);
  $("wording-box").open = true;
  showTemplate();
  changed();
});

showTemplate();
showRoutine(start.routine);

// voiceguide studio: the programme form (loaded after studio.js, whose state and helpers it uses).
"use strict";

// A programme's exercises: each {routine, hold?, sides?, rest?, title?, countdown?}, or a group
// {rounds, rest?, exercises: [...]}. An empty field is left out, so the routine's own value holds.
const exerciseItem = (v) => (typeof v === "string" ? { routine: v } : { ...v });
const programmeItem = (v) => (v && typeof v === "object" && Array.isArray(v.exercises)
  ? { ...v, exercises: v.exercises.map(exerciseItem) } : exerciseItem(v));

function showProgramme(programme, own) {
  programme.exercises = (programme.exercises || []).map(programmeItem);
  state.programme = programme;
  state.own = own || {};
  showKind(true);
  $("title").value = programme.title || "";
  $("intro").value = programme.intro || "";
  $("programme-outro").value = programme.outro || "";
  $("rest").value = programme.rest === undefined ? "" : String(programme.rest);
  $("hold").value = "";
  showExtras(programme.extras || {});
  renderExercises();
  remember();
  changed();
}

// What the form shows of a routine an exercise names: title, default hold, sides.
function aboutRoutine(name) {
  if (start.catalogue[name]) return start.catalogue[name];
  const mine = state.own[name];
  if (!mine) return { title: name, hold: "", sides: [] };
  const hold = mine.hold && typeof mine.hold === "object" ? mine.hold.default : mine.hold;
  return { title: mine.title || name, hold: hold ? String(hold) : "5m", sides: mine.sides || ["left", "right"] };
}

function routineSelect(id, chosen) {
  const select = document.createElement("select");
  select.id = id;
  const groups = [["Built-in routines", Object.keys(start.catalogue)], ["Your routines", Object.keys(state.own)]];
  for (const [label, names] of groups) {
    if (!names.length) continue;
    const group = document.createElement("optgroup");
    group.label = label;
    group.append(...names.map((n) => new Option(n, n)));
    select.append(group);
  }
  if (![...select.options].some((o) => o.value === chosen)) select.append(new Option(chosen, chosen));
  select.value = chosen;
  return select;
}

// A labelled field: the visible word, and a name that says which exercise it is for.
function field(id, word, owner, control) {
  const label = document.createElement("label");
  label.htmlFor = id;
  const hidden = document.createElement("span");
  hidden.className = "visually-hidden";
  hidden.textContent = `${owner} `;
  label.append(hidden, word);
  control.id = id;
  const wrap = document.createElement("span");
  wrap.className = "field";
  wrap.append(label, control);
  return wrap;
}

function textInput(value, placeholder, size, onInput) {
  const input = document.createElement("input");
  input.value = value === undefined || value === null ? "" : String(value);
  input.placeholder = placeholder;
  input.size = size;
  input.setAttribute("aria-describedby", "exercises-hint");
  input.addEventListener("input", () => onInput(input.value.trim()));
  return input;
}

function setOrDrop(object, key, value) {
  if (value === "" || value === null || value === undefined) delete object[key];
  else object[key] = value;
}

// ↑ ↓ ✕ for an item of ``list``; focus stays on the same button of the moved item.
function moveButtons(list, index, what, idOf) {
  return [["↑", "Move up", -1, "up"], ["↓", "Move down", 1, "down"], ["✕", "Remove", 0, "remove"]]
    .map(([sign, name, move, key]) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = sign;
      button.id = idOf(key);
      button.setAttribute("aria-label", `${name} ${what}`);
      button.addEventListener("click", () => {
        let focus = null;
        if (move === 0) {
          if (list.length === 1 && list === state.programme.exercises) return; // keep one
          list.splice(index, 1);
          const programme = state.programme;
          programme.exercises = programme.exercises.filter((i) => !i.exercises || i.exercises.length);
          focus = "add-exercise";
        } else {
          const to = index + move;
          if (to < 0 || to >= list.length) return;
          [list[index], list[to]] = [list[to], list[index]];
        }
        renderExercises();
        const again = focus ? $(focus) : findButton(list[index + move], key);
        if (again) again.focus();
        changed();
      });
      return button;
    });
}

// The button ``key`` of an item after the list was drawn again.
const drawn = new Map();
const findButton = (item, key) => (item && drawn.has(item) ? $(`${drawn.get(item)}-${key}`) : null);

function exerciseRow(list, index, exercise, number, last) {
  const li = document.createElement("li");
  const box = document.createElement("div");
  box.className = "exercise";
  const id = `ex-${number}`;
  const owner = `Exercise ${number}`;
  drawn.set(exercise, id);
  const about = aboutRoutine(exercise.routine);
  const heading = document.createElement("strong");
  heading.textContent = `${number}.`;
  const routine = routineSelect(`${id}-routine`, exercise.routine);
  routine.addEventListener("change", () => {
    exercise.routine = routine.value;
    delete exercise.sides; // the new routine's sides may differ
    renderExercises();
    $(`${id}-routine`).focus();
    changed();
  });
  const hold = textInput(exercise.hold, about.hold, 6, (v) => { setOrDrop(exercise, "hold", v); changed(); });
  const sides = textInput((exercise.sides || []).join(", "), about.sides.join(", ") || "none", 12, (v) => {
    setOrDrop(exercise, "sides", v ? v.split(",").map((s) => s.trim()).filter(Boolean) : "");
    changed();
  });
  const rest = textInput(exercise.rest, last ? "none" : state.programme.rest || "20s", 6,
    (v) => { setOrDrop(exercise, "rest", v); changed(); });
  const title = textInput(exercise.title, about.title, 22, (v) => { setOrDrop(exercise, "title", v); changed(); });
  box.append(
    heading,
    field(`${id}-routine`, "routine", owner, routine),
    field(`${id}-hold`, "hold", owner, hold),
    field(`${id}-sides`, "sides", owner, sides),
    field(`${id}-rest`, "rest after", owner, rest),
    field(`${id}-title`, "title", owner, title),
    ...moveButtons(list, index, `exercise ${number}`, (key) => `${id}-${key}`),
  );
  li.append(box);
  return li;
}

function groupRow(list, index, group, number, first) {
  const li = document.createElement("li");
  const box = document.createElement("fieldset");
  box.className = "group";
  const id = `group-${number}`;
  drawn.set(group, id);
  const legend = document.createElement("legend");
  legend.textContent = `Group ${number}, done in rounds`;
  const rounds = document.createElement("input");
  rounds.type = "number";
  rounds.min = 1;
  rounds.max = 10;
  rounds.value = group.rounds;
  rounds.addEventListener("input", () => { group.rounds = Math.round(Number(rounds.value)) || 1; changed(); });
  const rest = textInput(group.rest, state.programme.rest || "20s", 6, (v) => { setOrDrop(group, "rest", v); changed(); });
  const top = document.createElement("div");
  top.className = "item";
  top.append(
    field(`${id}-rounds`, "rounds", `Group ${number}`, rounds),
    field(`${id}-rest`, "rest between rounds", `Group ${number}`, rest),
    ...moveButtons(list, index, `group ${number}`, (key) => `${id}-${key}`),
  );
  const inner = document.createElement("ol");
  inner.className = "exercises";
  let n = first;
  inner.append(...group.exercises.map((exercise, i) => exerciseRow(group.exercises, i, exercise, n++, false)));
  const add = document.createElement("button");
  add.type = "button";
  add.textContent = `Add an exercise to group ${number}`;
  add.addEventListener("click", () => {
    group.exercises.push({ routine: Object.keys(start.catalogue)[0] });
    renderExercises();
    const added = findButton(group.exercises[group.exercises.length - 1], "routine");
    if (added) added.focus();
    changed();
  });
  box.append(legend, top, inner, add);
  li.append(box);
  return [li, n];
}

function renderExercises() {
  drawn.clear();
  const list = state.programme.exercises;
  const rows = [];
  let number = 1;
  let groups = 0;
  list.forEach((item, index) => {
    if (Array.isArray(item.exercises)) {
      const [row, next] = groupRow(list, index, item, ++groups, number);
      rows.push(row);
      number = next;
    } else rows.push(exerciseRow(list, index, item, number++, index === list.length - 1));
  });
  $("exercises").replaceChildren(...rows);
  // A programme that names a routine file of the person's is kept as a zip with it.
  const named = list.flatMap((item) => (item.exercises ? item.exercises : [item]));
  const theirs = named.some((e) => Object.hasOwn(state.own, e.routine));
  $("save-routine").textContent = theirs
    ? "Save the programme with your routines (zip)" : "Save the programme (YAML)";
}

for (const [id, key] of [["intro", "intro"], ["programme-outro", "outro"]]) {
  $(id).addEventListener("input", () => { state.programme[key] = $(id).value; changed(); });
}
$("rest").addEventListener("input", () => {
  setOrDrop(state.programme, "rest", $("rest").value.trim());
  renderExercises(); // the rests' placeholders
  changed();
});
$("add-exercise").addEventListener("click", () => {
  state.programme.exercises.push({ routine: Object.keys(start.catalogue)[0] });
  renderExercises();
  findButton(state.programme.exercises[state.programme.exercises.length - 1], "routine").focus();
  changed();
});
$("add-rounds").addEventListener("click", () => {
  state.programme.exercises.push({ rounds: 2, exercises: [{ routine: Object.keys(start.catalogue)[0] }] });
  renderExercises();
  findButton(state.programme.exercises[state.programme.exercises.length - 1], "rounds").focus();
  changed();
});

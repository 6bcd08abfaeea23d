// A sequence's page: the step builder (add, remove, reorder by keyboard; a form per step
// type), save with the server's error next to the field it names, moves, enrolling (a
// segment as a job with progress, or customer ids), the enrolments and the dry run.
// Every text a marketer or a customer wrote reaches the page through text nodes (`h`).
"use strict";

(() => {
  const { T, api, h, say, once, markFields, fill: fillIn } = window.KithDom;
  const form = document.getElementById("builder");
  if (!form) return;
  const list = document.getElementById("steps");
  const loaded = JSON.parse(document.getElementById("sequence-data").textContent);
  const TYPES = ["send", "wait", "branch", "tag", "untag", "set_attribute", "webhook",
    "notify_team", "goal", "end"];
  const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  const UNITS = { S: 1, M: 60, H: 3600, D: 86400 };
  const VALUE_TYPES = ["text", "number", "boolean", "null"];
  let steps = loaded ? loaded.steps.map((s) => ({ ...s })) : [
    { id: "welcome", type: "send", message: { text: { en: "" } } },
  ];
  let triggers = loaded ? loaded.triggers.map((t) => ({ ...t })) : [];

  // ---- ISO 8601 durations as a number and a unit --------------------------------------
  // The largest unit that shows the duration exactly, down to (fractions of) seconds, so that
  // saving the page never changes a wait the API stored (PT45S stays PT45S).

  function seconds(iso) {
    const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso || "");
    if (!m) return 86400;
    return (+(m[1] || 0)) * 86400 + (+(m[2] || 0)) * 3600 + (+(m[3] || 0)) * 60 + (+(m[4] || 0));
  }

  function split(total) {
    for (const unit of ["D", "H", "M"]) {
      if (total > 0 && total % UNITS[unit] === 0) return [total / UNITS[unit], unit];
    }
    return [total, "S"];
  }

  // Written out in full: a tiny amount in exponent form (1e-7) is no ISO 8601 number.
  const plain = (n) => n.toLocaleString("en-US", { useGrouping: false, maximumFractionDigits: 20 });
  const iso = (n, unit) => (unit === "D" ? `P${plain(n)}D` : `PT${plain(n)}${unit}`);
  // What was typed, its sign kept (-3 days is `-P3D`): the server refuses that wait at its
  // field, and the page says it with the user's own number (`showError`), never a wait of
  // nothing the user did not type. An empty or unreadable amount is refused before sending.
  const typedDuration = (n, unit) => (n < 0 ? `-${iso(-n, unit)}` : iso(n, unit));

  // ---- one step's form ------------------------------------------------------------------

  function field(label, path, control) {
    control.dataset.field = path;
    control.id = "f-" + path.replace(/\./g, "-");
    return h("label", {}, label, " ", control);
  }

  const input = (value, attrs = {}) => h("input", { type: "text", value: value ?? "", ...attrs });
  const area = (value) => { const a = h("textarea", { rows: 2 }); a.value = value ?? ""; return a; };

  function select(options, chosen) {
    return h("select", {}, options.map(([value, label]) =>
      h("option", { value, selected: value === (chosen ?? "") }, label)));
  }

  function fieldsOf(step, p) {
    const m = step.message || { text: {} };
    switch (step.type) {
      case "send":
        return [
          field(T.sequences_text_en, `${p}.message.text.en`, area(m.text.en)),
          field(T.sequences_text_zh, `${p}.message.text.zh`, area(m.text.zh)),
          field(T.sequences_step_channels, `${p}.channels`, input((step.channels || []).join(", "))),
        ];
      case "wait": {
        const mode = step.until ? "until" : "duration";
        const [n, unit] = split(seconds(step.duration));
        const until = step.until || { weekday: null, time: "09:00" };
        return [
          field(T.sequences_wait_mode, `${p}.mode`, select(
            [["duration", T.sequences_wait_duration], ["until", T.sequences_wait_until]], mode)),
          h("div", { class: "inline", dataset: { mode: "duration" }, hidden: mode !== "duration" },
            field(T.sequences_wait_amount, `${p}.duration`,
              input(n, { type: "number", min: 0, step: "any" })),
            field(T.sequences_wait_unit, `${p}.unit`, select(
              [["S", T.sequences_seconds], ["M", T.sequences_minutes], ["H", T.sequences_hours],
                ["D", T.sequences_days_unit]],
              unit))),
          h("div", { class: "inline", dataset: { mode: "until" }, hidden: mode !== "until" },
            field(T.sequences_weekday, `${p}.until.weekday`, select(
              [["", T.sequences_any_day], ...WEEKDAYS.map((d) => [d, T["sequences_day_" + d]])],
              until.weekday)),
            field(T.sequences_time, `${p}.until.time`, input(until.time, { type: "time" }))),
        ];
      }
      case "branch": {
        const kind = step.filter ? "filter" : step.since || "replied";
        return [
          field(T.sequences_branch_if, `${p}.since`, select([
            ["replied", T.sequences_since_replied], ["clicked", T.sequences_since_clicked],
            ["converted", T.sequences_since_converted], ["filter", T.sequences_since_filter]],
          kind)),
          field(T.sequences_branch_filter, `${p}.filter`,
            area(step.filter ? JSON.stringify(step.filter) : "")),
          field(T.sequences_branch_then, `${p}.then`, input(step.then, { list: "step-ids" })),
          field(T.sequences_branch_else, `${p}.else`, input(step.else, { list: "step-ids" })),
        ];
      }
      case "tag":
      case "untag":
        return [field(T.sequences_tag, `${p}.tag`, input(step.tag))];
      case "set_attribute":
        return [
          field(T.sequences_attribute_key, `${p}.key`, input(step.key)),
          field(T.sequences_attribute_type, `${p}.value_type`, select(
            VALUE_TYPES.map((type) => [type, T["sequences_value_" + type]]), valueType(step))),
          valueControl(step, p),
        ];
      case "webhook":
        return [
          field(T.sequences_webhook_url, `${p}.url`, input(step.url, { type: "url" })),
          field(T.sequences_webhook_timeout, `${p}.timeout_seconds`,
            input(step.timeout_seconds ?? 10, { type: "number", min: 1, max: 30 })),
        ];
      case "notify_team":
        return [
          field(T.sequences_note, `${p}.text`, area(step.text)),
          field(T.sequences_team, `${p}.team_id`, input(step.team_id)),
        ];
      default:
        return [h("p", { class: "hint" }, T["sequences_help_" + step.type])];
    }
  }

  // A value's type is the marketer's choice, never guessed from its text: "20001" stays a
  // postal code. A new step, or one whose value is text, holds text.
  function valueType(step) {
    if (step.valueType) return step.valueType;
    if (step.value === null) return "null";
    if (typeof step.value === "number") return "number";
    if (typeof step.value === "boolean") return "boolean";
    return "text";
  }

  function valueControl(step, p) {
    const label = T.sequences_attribute_value;
    switch (valueType(step)) {
      case "null":
        return null;
      case "boolean":
        return field(label, `${p}.value`, select(
          [["true", T.sequences_value_true], ["false", T.sequences_value_false]],
          String(step.value === true)));
      case "number":
        return field(label, `${p}.value`, input(
          typeof step.value === "number" ? step.value : "",
          { type: "number", step: "any", required: true }));
      default:
        return field(label, `${p}.value`, input(typeof step.value === "string" ? step.value : ""));
    }
  }

  // The step's id: what branches and the funnel name it by, still edited here, but set in
  // small type beside the step's moves: what the step does comes first to the eye.
  function stepIdField(step, p) {
    const label = field(T.sequences_step_id, `${p}.id`, input(step.id, { maxlength: 48, spellcheck: "false" }));
    label.classList.add("step-id");
    return label;
  }

  function stepItem(step, i) {
    const p = `steps.${i}`;
    const title = `${i + 1}. ${T["sequences_type_" + step.type]}`;
    const move = (by) => () => { reorder(i, i + by); };
    const item = h("li", { class: "step", dataset: { index: i, type: step.type } },
      h("fieldset", {},
        h("legend", {}, title),
        h("div", { class: "inline" },
          stepIdField(step, p),
          h("button", { type: "button", class: "up", disabled: i === 0,
            "aria-label": `${T.sequences_move_up}${T.colon}${title}`, onclick: move(-1) }, "↑"),
          h("button", { type: "button", class: "down", disabled: i === steps.length - 1,
            "aria-label": `${T.sequences_move_down}${T.colon}${title}`, onclick: move(1) }, "↓"),
          h("button", { type: "button", class: "danger remove",
            "aria-label": `${T.sequences_remove}${T.colon}${title}`, onclick: () => removeStep(i) },
          T.sequences_remove)),
        fieldsOf(step, p)));
    // Alt+↑ / Alt+↓ anywhere in a step moves it; the focus stays on the same control.
    item.addEventListener("keydown", (event) => {
      if (!event.altKey || !["ArrowUp", "ArrowDown"].includes(event.key)) return;
      event.preventDefault();
      const target = event.target.dataset.field;
      const to = i + (event.key === "ArrowUp" ? -1 : 1);
      if (reorder(i, to) && target) focusField(target.replace(`steps.${i}.`, `steps.${to}.`));
    });
    item.addEventListener("change", (event) => {
      const name = event.target.dataset.field || "";
      if (name.endsWith(".mode")) {
        for (const box of item.querySelectorAll("[data-mode]")) {
          box.hidden = box.dataset.mode !== event.target.value;
        }
      }
      if (name.endsWith(".value_type")) {  // another control for the value: draw it again
        sync();
        draw();
        focusField(name);
      }
    });
    return item;
  }

  function draw() {
    list.replaceChildren(...steps.map(stepItem));
    const ids = h("datalist", { id: "step-ids" }, steps.map((s) => h("option", { value: s.id })));
    document.getElementById("step-ids")?.remove();
    form.append(ids);
  }

  // ---- reading the form back --------------------------------------------------------------

  const valueOf = (path) => {
    const node = form.querySelector(`[data-field="${path}"]`);
    return node ? node.value : "";
  };

  function readStep(old, i) {
    const p = `steps.${i}`;
    const step = { id: valueOf(`${p}.id`).trim(), type: old.type };
    const v = (name) => valueOf(`${p}.${name}`);
    switch (old.type) {
      case "send": {
        const text = {};
        for (const lang of ["en", "zh"]) if (v(`message.text.${lang}`).trim()) text[lang] = v(`message.text.${lang}`);
        step.message = { ...(old.message || {}), text };
        const channels = v("channels").split(",").map((c) => c.trim()).filter(Boolean);
        if (channels.length) step.channels = channels;
        if (old.send_by) step.send_by = old.send_by;
        break;
      }
      case "wait":
        if (v("mode") === "until") {
          step.until = { time: v("until.time") };
          if (v("until.weekday")) step.until.weekday = v("until.weekday");
        } else {
          step.duration = typedDuration(Number(v("duration")), v("unit"));
        }
        break;
      case "branch":
        if (v("since") === "filter") {
          try { step.filter = JSON.parse(v("filter") || "null"); } catch { step.filter = v("filter"); }
        } else {
          step.since = v("since");
        }
        step.then = v("then").trim();
        if (v("else").trim()) step.else = v("else").trim();
        break;
      case "tag":
      case "untag":
        step.tag = v("tag").trim();
        break;
      case "set_attribute": {
        step.key = v("key").trim();
        const type = v("value_type") || valueType(old);
        const raw = v("value");
        step.value = { text: raw, number: raw.trim() === "" ? null : Number(raw),
          boolean: raw === "true", null: null }[type];
        // The chosen type, kept off the JSON (not enumerable) for the next drawing.
        Object.defineProperty(step, "valueType", { value: type, enumerable: false });
        break;
      }
      case "webhook":
        step.url = v("url").trim();
        step.timeout_seconds = parseFloat(v("timeout_seconds")) || 10;
        break;
      case "notify_team":
        step.text = v("text");
        if (v("team_id").trim()) step.team_id = v("team_id").trim();
        break;
      default:
    }
    return step;
  }

  function sync() {
    steps = steps.map(readStep);
    triggers = [...document.querySelectorAll("#triggers li")].map((li) => {
      const t = { kind: li.querySelector("select").value };
      const value = li.querySelector("[data-field$='.value']").value.trim();
      if (value) t.value = value;
      return t;
    });
  }

  function body() {
    sync();
    const out = {
      name: form.name.value,
      channels: form.channels.value.split(",").map((c) => c.trim()).filter(Boolean),
      stop_on_reply: form.stop_on_reply.checked,
      steps,
      triggers,
    };
    if (form.goal_kind.value === "order_placed") out.goal = { order_placed: true };
    else if (form.goal_kind.value === "segment_id") out.goal = { segment_id: form.goal_segment.value };
    else if (form.goal_kind.value) out.goal = { [form.goal_kind.value]: form.goal_value.value.trim() };
    if (form.reenrol_after_days.value) out.reenrol_after_days = +form.reenrol_after_days.value;
    return out;
  }

  // ---- structure: add, remove, reorder ----------------------------------------------------

  function reorder(from, to) {
    if (to < 0 || to >= steps.length) return false;
    sync();
    const [moved] = steps.splice(from, 1);
    steps.splice(to, 0, moved);
    draw();
    say(`${moved.id}${T.colon}${T.sequences_moved} ${to + 1}`);
    return true;
  }

  function removeStep(i) {
    sync();
    const [gone] = steps.splice(i, 1);
    draw();
    say(`${gone.id}${T.colon}${T.sequences_removed}`);
    const next = list.querySelectorAll("li.step")[Math.min(i, steps.length - 1)];
    (next ? next.querySelector("input") : document.getElementById("add-step")).focus();
  }

  function freshId(type) {
    const taken = new Set(steps.map((s) => s.id));
    let n = 1;
    while (taken.has(`${type.replace("_", "-")}-${n}`)) n += 1;
    return `${type.replace("_", "-")}-${n}`;
  }

  const chooser = document.getElementById("new-step-type");

  document.getElementById("add-step").addEventListener("click", () => {
    sync();
    const type = chooser.value;
    const step = { id: freshId(type), type };
    if (type === "send") step.message = { text: {} };
    if (type === "wait") step.duration = "P1D";
    // While a reply stops the enrolment, a branch on "replied" is never taken (refused on
    // save): a new branch starts on a click instead.
    if (type === "branch") { step.since = form.stop_on_reply.checked ? "clicked" : "replied"; step.then = ""; }
    steps.push(step);
    draw();
    // The next step starts again from the first type (Send), and the new one is announced:
    // a select that kept "Wait" made a keyboard user's next step a second Wait unawares.
    chooser.selectedIndex = 0;
    say(fillIn(T.sequences_step_added, { n: steps.length, type: T["sequences_type_" + type], id: step.id }));
    focusField(`steps.${steps.length - 1}.id`);
  });

  function focusField(path) {
    const node = form.querySelector(`[data-field="${path}"]`);
    if (node) node.focus();
    return node;
  }

  // ---- triggers -----------------------------------------------------------------------------

  const KINDS = [
    "segment_entered", "tag_added", "wechat_scene", "telegram_start",
    "community_joined", "referrals_reached", "bot",
  ];

  // A segment trigger's segment and a community trigger's community are picked by name (as
  // the goal's segment is); other kinds type a value. Another kind of control drops the value.
  const PICKERS = {
    segment_entered: (chosen) => segmentPicker(chosen, { "aria-label": T.sequences_trigger_segment }),
    community_joined: (chosen) => communityPicker(chosen, { "aria-label": T.sequences_trigger_community }),
  };
  const controlKind = (k) => (PICKERS[k] ? k : "typed");

  function triggerItem(t, i) {
    const kind = select(KINDS.map((k) => [k, T["sequences_trigger_" + k]]), t.kind);
    kind.dataset.field = `triggers.${i}.kind`;
    kind.setAttribute("aria-label", T.sequences_trigger_kind);
    kind.addEventListener("change", () => {
      sync();
      if (controlKind(t.kind) !== controlKind(kind.value)) delete triggers[i].value;
      drawTriggers();
      document.querySelector(`[data-field="triggers.${i}.kind"]`).focus();
    });
    const value = PICKERS[t.kind]
      ? PICKERS[t.kind](t.value || "")
      : input(t.value, { "aria-label": T.sequences_trigger_value });
    value.dataset.field = `triggers.${i}.value`;
    return h("li", { class: "inline" }, kind, value,
      h("button", { type: "button", onclick: () => {
        sync(); triggers.splice(i, 1); drawTriggers();
        document.getElementById("add-trigger").focus();
      } }, T.sequences_remove));
  }

  // Drawn again when the segment and community names arrive, perhaps after the marketer has
  // moved into a trigger: the control they were on keeps the focus.
  function drawTriggers() {
    const list = document.getElementById("triggers");
    const on = list.contains(document.activeElement) ? document.activeElement.dataset.field : null;
    list.replaceChildren(...triggers.map(triggerItem));
    if (on) list.querySelector(`[data-field="${CSS.escape(on)}"]`)?.focus();
  }

  document.getElementById("add-trigger").addEventListener("click", () => {
    sync();
    triggers.push({ kind: "segment_entered" });
    drawTriggers();
    document.querySelector(`[data-field="triggers.${triggers.length - 1}.kind"]`).focus();
  });

  // ---- saving, with the error beside the field the server names ----------------------------

  function clearErrors() {
    for (const node of form.querySelectorAll(".field-error")) node.remove();
    for (const node of form.querySelectorAll("[aria-invalid]")) {
      node.removeAttribute("aria-invalid");
      node.removeAttribute("aria-describedby");
    }
    document.getElementById("builder-error").textContent = "";
  }

  // The form's own controls are named as the API names their fields, as the steps' are.
  for (const [name, path] of [["name", "name"], ["channels", "channels"], ["stop_on_reply", "stop_on_reply"],
    ["goal_kind", "goal"], ["goal_value", "goal.value"], ["goal_segment", "goal.segment_id"],
    ["reenrol_after_days", "reenrol_after_days"]]) {
    if (form.elements[name]) form.elements[name].dataset.field = path;
  }

  // `steps.2.message.text.en` names a control; pydantic may add the step type
  // (`steps.2.send.message`) or name a part (`steps.2.until`): the nearest control wins.
  // A goal's tag is its value box (its segment, the picker, is named as the API names it).
  function controlFor(path) {
    let parts = path.split(".");
    if (parts[0] === "steps") parts = parts.filter((p, n) => n < 2 || !TYPES.includes(p));
    if (parts[0] === "steps" && parts[2] === "duration") parts.splice(3);
    if (parts[0] === "goal" && parts[1] === "tag") parts.splice(1, 1, "value");
    for (let n = parts.length; n > 0; n -= 1) {
      const prefix = CSS.escape(parts.slice(0, n).join("."));
      const exact = form.querySelector(`[data-field="${prefix}"]`);
      if (exact) return exact;
      const inside = form.querySelector(`[data-field^="${prefix}."]`);
      if (inside) return inside;
    }
    return null;
  }

  // Every field the server refused, its words beside its control (the first focused); the
  // banner says how many, not the fields' internal paths, or what names no control.
  function showError(error) {
    const fields = error.fields && error.fields.length ? error.fields : [{ field: error.field, message: error.message }];
    const placed = [];
    const elsewhere = [];
    for (const each of fields) {
      const control = each.field ? controlFor(each.field) : null;
      if (!control) {
        elsewhere.push(each.message);
        continue;
      }
      const path = control.dataset.field;
      if (!form.querySelector(`[data-error-for="${CSS.escape(path)}"]`)) {
        const id = control.id || `error-${path.replace(/\W/g, "-")}`;
        const slot = h("p", { class: "form-error field-error", id: `${id}-error`, dataset: { errorFor: path } });
        control.setAttribute("aria-describedby", slot.id);
        (control.closest("label") || control).after(slot);
      }
      placed.push({ ...each, field: path, message: waitWords(each, control) });
    }
    markFields(form, { fields: placed });
    const said = placed.length === 1 ? placed[0].message : fillIn(T.sequences_errors_at, { n: placed.length });
    const banner = placed.length ? [`${T.sequences_error_at} ${said}`, ...elsewhere] : elsewhere;
    document.getElementById("builder-error").textContent = banner.join(" ");
  }

  // A number the browser cannot read (empty, or not a number) is refused here: sent, it
  // would become another type.
  function unreadableNumber() {
    const bad = [...form.querySelectorAll('input[type=number][data-field$=".value"]')]
      .find((node) => node.value.trim() === "" || !node.validity.valid);
    return bad ? { field: bad.dataset.field, message: T.reason_float_parsing } : null;
  }

  // A wait's amount left empty, or not a number (the browser keeps no text it cannot read as
  // one): refused at its field in words, rather than sent as some other wait.
  function unreadableWait() {
    const bad = [...form.querySelectorAll('input[type=number][data-field$=".duration"]')]
      .find((node) => !node.closest("[data-mode]").hidden
        && (node.value.trim() === "" || node.validity.badInput));
    return bad ? { field: bad.dataset.field, message: T.sequences_wait_unreadable } : null;
  }

  // The server's "no wait of that length" at a wait's amount, said with what the user typed.
  function waitWords(each, control) {
    if (each.reason !== "wait_length" || !control.dataset.field.endsWith(".duration")) return each.message;
    const unit = form.querySelector(`[data-field="${CSS.escape(control.dataset.field.replace(/duration$/, "unit"))}"]`);
    return fillIn(T.sequences_wait_refused, {
      amount: control.value, unit: unit ? unit.selectedOptions[0].textContent : "" });
  }

  // Once: a second Enter while the draft is being made would make two drafts.
  once(form, async () => {
    clearErrors();
    say("");
    const local = unreadableNumber() || unreadableWait();
    if (local) {
      showError(local);
      return;
    }
    try {
      if (!loaded) {
        const made = await api("POST", "/sequences", body());
        // Its own page, in place of the empty builder: a reload or a bookmark shows it, and
        // Back does not lead to a builder that would make another (QA pass 7, minor 4).
        window.location.replace(`/app/sequences/${encodeURIComponent(made.id)}`);
        return once.LEAVING;
      }
      const saved = await api("PUT", `/sequences/${loaded.id}`, body());
      document.getElementById("sequence-version").textContent = saved.version;
      say(fillIn(T.sequences_saved_line, { name: saved.name, version: saved.version }));
    } catch (error) {
      showError(error);
    }
  });

  function fill() {
    if (loaded) {
      form.name.value = loaded.name;
      form.channels.value = loaded.channels.join(", ");
      form.stop_on_reply.checked = loaded.stop_on_reply;
      if (loaded.goal) {
        form.goal_kind.value = loaded.goal.order_placed ? "order_placed" : loaded.goal.tag ? "tag" : "segment_id";
        form.goal_value.value = loaded.goal.tag || "";
      }
      if (loaded.reenrol_after_days) form.reenrol_after_days.value = loaded.reenrol_after_days;
    }
    showGoal();
    draw();
    drawTriggers();
    goalSegments().catch((error) => say(error.message, { error: true }));
  }

  // ---- the goal: a tag typed, or a segment picked by name --------------------------------

  function showGoal() {
    for (const box of form.querySelectorAll("[data-goal]")) {
      box.hidden = box.dataset.goal !== form.goal_kind.value;
    }
  }

  form.goal_kind.addEventListener("change", showGoal);

  // The workspace's segments by name (as Enrol → Segment lists them), for the goal and the
  // segment triggers. A segment that is gone stays chosen under its id, so that saving
  // changes nothing the marketer did not.
  let segments = [];

  function segmentOptions(chosen) {
    const options = [h("option", { value: "" }, T.sequences_goal_segment_choose),
      ...segments.map((s) => h("option", { value: s.id },
        fillIn(T.sequences_with_detail, { name: s.name, detail: s.size ?? "?" })))];
    if (chosen && !segments.some((s) => s.id === chosen)) {
      options.push(h("option", { value: chosen }, fillIn(T.sequences_goal_segment_gone, { id: chosen })));
    }
    return options;
  }

  function segmentPicker(chosen, attrs) {
    const picker = h("select", attrs, ...segmentOptions(chosen));
    picker.value = chosen;
    return picker;
  }

  // The workspace's communities by title (as Broadcasts → Communities lists them), for the
  // community triggers; one that is gone stays chosen under its id, as a segment does.
  let communities = [];

  function communityPicker(chosen, attrs) {
    const options = [h("option", { value: "" }, T.sequences_community_choose),
      ...communities.map((c) => h("option", { value: c.id },
        fillIn(T.sequences_community_option, { title: c.title, members: c.member_count })))];
    if (chosen && !communities.some((c) => c.id === chosen)) {
      options.push(h("option", { value: chosen }, fillIn(T.sequences_community_gone, { id: chosen })));
    }
    const picker = h("select", attrs, ...options);
    picker.value = chosen;
    return picker;
  }

  async function goalSegments() {
    const picker = form.goal_segment;
    const chosen = picker.value || loaded?.goal?.segment_id || "";
    [segments, communities] = await Promise.all([
      api("GET", "/broadcast-audiences"), api("GET", "/broadcast-communities")]);
    picker.replaceChildren(...segmentOptions(chosen));
    picker.value = chosen;
    sync();
    drawTriggers();  // their pickers, now with the names
  }

  fill();
})();

// The Segments page: the list, the builder (conditions and groups, a JSON view, a live
// count while editing) and a segment's members. Talks to /api/v1/segments with the session.
"use strict";

(() => {
  const { T, h, dateTime, markFields } = window.KithDom;
  const body = document.body;
  const $ = (id) => document.getElementById(id);
  const FIELDS = JSON.parse($("segment-fields").textContent);
  const segmentId = body.dataset.segmentId || null;
  const say = (key, values = {}) =>
    (T[key] || key).replace(/\{(\w+)\}/g, (w, k) => (values[k] !== undefined ? String(values[k]) : w));

  async function call(method, path, payload) {
    const response = await fetch("/api/v1/segments" + path, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": body.dataset.csrf },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    if (response.status === 401) window.location.assign("/app/login");
    const data = response.status === 204 ? null : await response.json();
    if (!response.ok) {
      const error = (data && data.error) || {};
      const failure = new Error(refusal(error, true));
      failure.field = error.field;
      // Every bad place of the filter, each worded for the control it is marked at.
      failure.fields = (error.fields || []).map((f) => ({ ...f, message: refusal(f, false) }));
      throw failure;
    }
    return data;
  }

  // A refusal in the page's language when the API said why (`reason`), else its message;
  // `named`: after the place at fault, for the one line above the builder.
  function refusal(error, named) {
    if (error.reason === "segment_in_use" && error.limits && Array.isArray(error.limits.users)) {
      return say("segments_reason_segment_in_use", { names: usersNamed(error.limits) });
    }
    if (error.reason === "bad_date" && !picked(error.field)) return T.segments_bad_date_typed;
    if (error.reason && T["segments_reason_" + error.reason]) return say("segments_reason_" + error.reason, error.limits || {});
    return named && error.field ? `${error.field}: ${error.message}` : error.message || T.error;
  }

  // Whether the builder shows the value at `field` as a date-and-time control: a bad date
  // there is one picked in part (its words say to pick both); else it was typed (a stored
  // value the control cannot show, or the JSON view), and the words give the typed form.
  function picked(field) {
    const box = field ? document.querySelector(`#conditions [data-field="${CSS.escape(field)}"]`) : null;
    return Boolean(box && box.querySelector('input[type="datetime-local"]'));
  }

  // What still uses a segment (`records.users_of`), named in the page's language: "the
  // broadcast “Spring sale”, the sequence “Welcome”" / "群发“Spring sale”、培育序列“Welcome”".
  function usersNamed(limits) {
    const names = limits.users.map((u) => say("segments_user_" + u.kind, { name: u.name })).join(T.segments_list_sep);
    return limits.more ? say("segments_users_more", { names, count: limits.more }) : names;
  }

  // The filter as the builder holds it --------------------------------------------------
  const spec = (name) => FIELDS.find((f) => f.name === name);
  const condition = () => ({ field: "tags", key: "", op: "contains", value: "" });
  let tree = { mode: "all", children: [condition()] };
  // A stored filter the builder cannot hold (a field no longer offered): kept as it is, shown
  // in the JSON view, counted and saved unchanged until JSON the builder holds is applied.
  let unheld = null;
  const current = () => unheld || toFilter(tree);

  // Money fields hold minor units (19999 fen); the builder shows and takes the currency's
  // units ("199.99"), with the exponents orders use (`kith.orders.money.EXPONENTS`).
  const exponentOf = (s, key) => (s && s.money ? s.money.exponents[key] ?? 0 : null);
  function toMajor(minor, places) {  // the point moved in the text: 1999.5 fen is "19.995"
    const text = String(minor);
    if (typeof minor !== "number" || !places || !/^-?\d+(\.\d+)?$/.test(text)) return text;
    const [whole, part = ""] = text.replace("-", "").split(".");
    const digits = whole.padStart(places + 1, "0");
    const fraction = (digits.slice(-places) + part).replace(/0+$/, "").padEnd(places, "0");
    return (minor < 0 ? "-" : "") + digits.slice(0, -places) + "." + fraction;
  }
  const toMinor = (text, places) => Math.round(Number(text) * 10 ** places);

  // Date fields are picked in the browser's time zone (a datetime-local control) and kept as
  // the filter keeps them, an ISO date-time with its offset ("2026-01-31T09:30:00+08:00"): a
  // stored value is shown as that moment here, and written back unchanged unless edited.
  const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  const pad = (n, width = 2) => String(Math.abs(n)).padStart(width, "0");
  const ISO_MOMENT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
  function toLocalInput(iso) {  // "" when the stored text is no moment the browser reads alike
    const at = ISO_MOMENT.test(iso) ? new Date(iso) : null;
    if (!at || Number.isNaN(at.getTime())) return "";
    const seconds = at.getSeconds() ? ":" + pad(at.getSeconds()) : "";
    return `${pad(at.getFullYear(), 4)}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}` +
      `T${pad(at.getHours())}:${pad(at.getMinutes())}${seconds}`;
  }
  function fromLocalInput(local) {  // the control's local moment with this browser's offset
    const at = local ? new Date(local) : null;
    if (!at || Number.isNaN(at.getTime())) return "";
    const offset = -at.getTimezoneOffset();
    const sign = offset < 0 ? "-" : "+";
    return `${local.length === 16 ? local + ":00" : local.slice(0, 19)}${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
  }
  // A date field's operators read as time does, in the order people think of them.
  const DATE_OPS = ["gt", "gte", "lt", "lte", "within_days", "older_than_days"];
  const opsOf = (s) => (s.kind === "date" ? [...DATE_OPS.filter((o) => s.ops.includes(o)), ...s.ops.filter((o) => !DATE_OPS.includes(o))] : s.ops);
  const opName = (s, o) => (s.kind === "date" && T["segments_date_op_" + o]) || T["segments_op_" + o] || o;

  // A node of the JSON view: refused in words when it is not a filter (a `{}` or a list), or
  // when it says more than the builder holds: an operator (`{"$gt": ""}` as a value, a `$where`
  // beside field, op and value) is refused, never turned into text and searched for.
  class NotAFilter extends Error {}
  const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  function fromFilter(raw) {
    const mode = ["all", "any"].find((m) => raw && Array.isArray(raw[m]));
    if (mode) {
      const extra = Object.keys(raw).find((k) => k !== mode);
      if (extra !== undefined) throw new NotAFilter(say("segments_json_group_key", { key: extra, mode }));
      return { mode, children: raw[mode].map(fromFilter) };
    }
    if (!raw || typeof raw !== "object" || typeof raw.field !== "string" || typeof raw.op !== "string") {
      throw new NotAFilter(T.segments_json_not_filter);
    }
    const extra = Object.keys(raw).find((k) => !["field", "op", "value"].includes(k));
    if (extra !== undefined) throw new NotAFilter(say("segments_json_extra_key", { key: extra, field: raw.field }));
    if (isObject(raw.value) || (Array.isArray(raw.value) && raw.value.some((v) => v !== null && typeof v === "object"))) {
      throw new NotAFilter(say("segments_json_object_value", { field: raw.field }));
    }
    const s = knownSpec(raw);
    const key = raw.field.slice(s.name.length);
    const places = raw.op === "exists" ? null : exponentOf(s, key);
    const value = Array.isArray(raw.value) ? raw.value.join(", ")
      : places !== null ? toMajor(raw.value, places) : String(raw.value);
    // What it was read from: written back as it was while the condition is not edited (the
    // text "true" stays text, 1999.5 fen stays 1999.5, a list keeps its numbers as numbers).
    const from = { field: s.name, key, op: raw.op, value, raw: raw.value };
    return { field: s.name, key, op: raw.op, value, from };
  }

  // The spec of a condition's field, refused unless the builder can hold the condition as it
  // is: `toFilter` cannot read an unknown field, and the builder would quietly swap an op or
  // a choice it does not offer for its first, or turn a value of another type into text.
  function knownSpec(raw) {
    const s = spec(raw.field) || FIELDS.find((f) => f.name.endsWith(".") && raw.field.startsWith(f.name));
    if (!s) {
      const fields = FIELDS.map((f) => f.name + (f.name.endsWith(".") ? "…" : "")).join(", ");
      throw new NotAFilter(say("segments_json_unknown_field", { field: raw.field, fields }));
    }
    if (!s.ops.includes(raw.op)) {
      throw new NotAFilter(say("segments_json_unknown_op", { field: raw.field, op: raw.op, ops: s.ops.join(", ") }));
    }
    const expected = misfit(s, raw.op, raw.value);
    if (expected) throw new NotAFilter(say("segments_json_wrong_value", { field: raw.field, op: raw.op, expected }));
    return s;
  }

  // A value as the API takes it for each kind and op (`kith.segments.filters._value`): the
  // words for what the condition takes when `value` (undefined when missing) is not that.
  const FITS = {
    tags: (s, v) => typeof v === "string",
    scalar: (s, v) => ["string", "number", "boolean"].includes(typeof v),
    number: (s, v) => typeof v === "number",
    date: (s, v) => typeof v === "string",
    choice: (s, v) => s.choices.includes(v),
  };
  function misfit(s, op, value) {
    if (op === "exists") return typeof value === "boolean" ? "" : T.segments_json_takes_bool;
    if (op.endsWith("_days")) return Number.isInteger(value) ? "" : T.segments_json_takes_days;
    const fits = (v) => (FITS[s.kind] || FITS.scalar)(s, v);
    const one = say("segments_json_takes_" + s.kind, { choices: s.choices.join(", ") });
    if (op !== "in") return fits(value) ? "" : one;
    return Array.isArray(value) && value.length && value.every(fits) ? "" : say("segments_json_takes_list", { each: one });
  }

  // A JSON.parse failure in the page's language, with the line and column when the
  // browser gives the position ("… at position 12") or the text simply stops short.
  function jsonProblem(error, text) {
    const at = /position (\d+)/.exec(error.message);
    let problem = T.segments_json_check;
    if (at) {
      const before = text.slice(0, Number(at[1])).split("\n");
      problem = say("segments_json_at", { line: before.length, column: before[before.length - 1].length + 1 });
    } else if (/end of (JSON )?input|unterminated|ended/i.test(error.message) || !text.trim()) {
      problem = T.segments_json_ended;
    }
    return say("segments_json_invalid", { problem });
  }

  // An attribute holds text, a number or true/false: typed "42" and "true" are read as the
  // number and the true/false value (the JSON view writes "\"42\"" for the text).
  function scalar(kind, text) {
    if (kind === "number") return Number(text);
    if (kind !== "scalar") return text;
    if (/^-?\d+(\.\d+)?$/.test(text.trim())) return Number(text);
    return text === "true" ? true : text === "false" ? false : text;
  }

  const unedited = (node) => node.from && ["field", "key", "op", "value"].every((k) => node[k] === node.from[k]);

  function toFilter(node) {
    if (node.children) return { [node.mode]: node.children.map(toFilter) };
    const s = spec(node.field);
    const field = s.name.endsWith(".") ? s.name + node.key : s.name;
    let value;
    if (unedited(node)) value = node.from.raw;
    else if (node.op === "exists") value = node.value !== "false";
    else if (node.op === "within_days" || node.op === "older_than_days") value = parseInt(node.value, 10);
    else if (node.op === "in") value = node.value.split(",").map((v) => scalar(s.kind, v.trim())).filter((v) => v !== "");
    else if (s.money) value = toMinor(node.value, exponentOf(s, node.key));
    else value = scalar(s.kind, node.value);
    return { field, op: node.op, value };
  }

  // Drawing the builder -------------------------------------------------------------------
  // Groups and conditions are numbered apart ("Match 1", "Field 1"), each from 1.
  const counters = { group: 0, condition: 0 };
  // Each control carries the place the API names in a refusal (`filter.all.1.value`), where
  // `markFields` marks it: `path` is the group's or the condition's.
  function drawGroup(group, parent, depth, path) {
    const n = ++counters.group;
    const box = h("fieldset", { class: "group", dataset: { field: path } },
      h("legend", {}, depth ? `${T.segments_group} ${n}` : T.segments_match));
    const mode = h("select", { "aria-label": `${T.segments_match} ${n}`, onchange: (e) => { group.mode = e.target.value; changed(); } },
      h("option", { value: "all", selected: group.mode === "all" }, T.segments_match_all),
      h("option", { value: "any", selected: group.mode === "any" }, T.segments_match_any));
    box.append(mode);
    group.children.forEach((child, i) => {
      const remove = () => { group.children.splice(i, 1); redraw(); };
      const at = `${path}.${group.mode}.${i}`;
      box.append(child.children ? drawGroup(child, group, depth + 1, at) : drawCondition(child, remove, at));
    });
    box.append(h("div", { class: "buttons" },
      h("button", { type: "button", onclick: () => { group.children.push(condition()); redraw(true); } }, T.segments_add_condition),
      depth < 4 ? h("button", { type: "button", onclick: () => { group.children.push({ mode: "any", children: [condition()] }); redraw(true); } }, T.segments_add_group) : null,
      depth && parent ? h("button", { type: "button", onclick: () => { parent.children.splice(parent.children.indexOf(group), 1); redraw(); } }, T.segments_remove) : null));
    return box;
  }

  function drawCondition(node, remove, path) {
    const n = ++counters.condition;
    const s = spec(node.field) || FIELDS[0];
    const ops = opsOf(s);
    if (!ops.includes(node.op)) node.op = ops[0];
    const field = h("select", { "aria-label": `${T.segments_field} ${n}`, onchange: (e) => { node.field = e.target.value; node.value = ""; redraw(); focusLater(`${T.segments_field} ${n}`); } },
      FIELDS.map((f) => h("option", { value: f.name, selected: f.name === s.name }, T["segments_field_" + f.name] || f.name)));
    const keyLabel = `${T.segments_key} ${n}`;
    let key = null;
    if (s.money) {  // the currency: the amount is read in its units
      if (!node.key) node.key = s.money.currency;
      const codes = Object.keys(s.money.exponents);
      if (!codes.includes(node.key)) codes.unshift(node.key);
      key = h("select", { "aria-label": keyLabel, onchange: (e) => { node.key = e.target.value; redraw(); focusLater(keyLabel); } },
        codes.map((c) => h("option", { value: c, selected: c === node.key }, c)));
    } else if (s.name.endsWith(".")) {
      key = h("input", { "aria-label": keyLabel, value: node.key, size: 10, oninput: (e) => { node.key = e.target.value; changed(); } });
    }
    const op = h("select", { "aria-label": `${T.segments_op} ${n}`, onchange: (e) => {
      // A date's moment and a number of days are no value of each other: the new one starts empty.
      if (s.kind === "date" && node.op.endsWith("_days") !== e.target.value.endsWith("_days")) node.value = "";
      node.op = e.target.value; redraw(); focusLater(`${T.segments_op} ${n}`);
    } },
      ops.map((o) => h("option", { value: o, selected: o === node.op }, opName(s, o))));
    let value;
    let unit = null;
    const label = `${T.segments_value} ${n}`;
    const set = (e) => { node.value = e.target.value; changed(); };
    if (node.op === "exists") {
      if (node.value !== "false") node.value = "true";
      value = h("select", { "aria-label": label, onchange: set },
        h("option", { value: "true", selected: node.value === "true" }, T.segments_true),
        h("option", { value: "false", selected: node.value === "false" }, T.segments_false));
    } else if (s.picks && s.picks.length) {  // a channel or community, by name; the filter keeps its id
      const picks = [...s.picks];
      if (!picks.some((p) => p.id === node.value)) {
        if (node.value) picks.unshift({ id: node.value, name: say("segments_pick_gone", { id: node.value }) });
        else node.value = picks[0].id;
      }
      value = h("select", { "aria-label": label, onchange: set }, picks.map((p) => h("option", { value: p.id, selected: p.id === node.value }, p.name)));
    } else if (s.kind === "date" && !node.op.endsWith("_days") && (!node.value || toLocalInput(node.value))) {
      // A moment picked here (a stored one the browser cannot read alike stays text below).
      const local = toLocalInput(node.value);
      value = h("input", { "aria-label": label, type: "datetime-local", value: local, step: local.length > 16 ? "1" : "60",
        oninput: (e) => { node.value = fromLocalInput(e.target.value); changed(); } });
      unit = ZONE ? h("span", { class: "unit" }, ZONE) : null;
    } else if (s.kind === "choice" && node.op !== "in") {
      if (!s.choices.includes(node.value)) node.value = s.choices[0];
      value = h("select", { "aria-label": label, onchange: set }, s.choices.map((c) => h("option", { value: c, selected: c === node.value }, T["segments_choice_" + c] || c)));
    } else {
      const numeric = node.op.endsWith("_days") || s.kind === "number";
      const places = exponentOf(s, node.key);
      value = h("input", { "aria-label": label, value: node.value, type: numeric ? "number" : "text", oninput: set,
        step: places ? (10 ** -places).toFixed(places) : places === 0 ? "1" : "any",
        placeholder: s.kind === "date" && !node.op.endsWith("_days") ? "2026-01-31T00:00:00+08:00"
          : places !== null ? toMajor(19900 * 10 ** Math.max(places - 2, 0), places) : null });
    }
    if (s.money && node.op !== "exists") unit = h("span", { class: "unit" }, node.key);
    const part = (name, ...controls) => {
      const slot = h("span", { class: "field-error", id: `${path}.${name}-error` });
      for (const c of controls) if (c && c.matches && c.matches("input, select")) c.setAttribute("aria-describedby", slot.id);
      return h("span", { class: "part", dataset: { field: `${path}.${name}` } }, ...controls, slot);
    };
    // A bad field name is most often its key (`attributes.<key>`): marked there, its words
    // beside it, when it has one; else at the field.
    const named = key && key.tagName === "INPUT" ? [field, part("field", key)] : [part("field", field), key];
    return h("div", { class: "condition" }, ...named, part("op", op), part("value", value, unit),
      h("button", { type: "button", "aria-label": `${T.segments_remove} ${n}`, onclick: remove }, "×"));
  }

  function focusLater(label) {
    const found = [...document.querySelectorAll("#conditions [aria-label]")].find((el) => el.getAttribute("aria-label") === label);
    if (found) found.focus();
  }

  function redraw(focusNew) {
    counters.group = counters.condition = 0;
    const root = $("conditions");
    if (unheld) root.replaceChildren(h("p", { class: "hint warn" }, T.segments_not_held));
    else root.replaceChildren(drawGroup(tree, null, 0, "filter"));
    if (focusNew) {
      const fields = root.querySelectorAll("select[aria-label^='" + T.segments_field + "']");
      if (fields.length) fields[fields.length - 1].focus();
    }
    changed();
  }

  // The JSON view and the live count ----------------------------------------------------
  let timer = null;
  let asked = 0;
  let countSaid = null;  // the refusal the live count put up: its next answer takes it down
  function changed() {
    $("filter-json").value = JSON.stringify(current(), null, 2);
    clearTimeout(timer);
    timer = setTimeout(count, 400);
  }

  // A condition on a keyed field (an attribute) whose key is still blank.
  function keyMissing(node) {
    if (node.children) return node.children.some(keyMissing);
    const s = spec(node.field);
    return Boolean(s && s.name.endsWith(".") && !s.money && !node.key.trim());
  }

  async function count() {
    const mine = ++asked;
    const shown = $("live-count");
    if (unheld) {  // its reason stays said: no count's refusal in its place
      shown.textContent = "";
      return;
    }
    if (keyMissing(tree)) {  // nothing to count yet: said so, not a refusal nor a blank line
      if ($("builder-error").textContent === countSaid) $("builder-error").textContent = "";
      shown.textContent = T.segments_count_needs_key;
      return;
    }
    shown.textContent = T.segments_counting;
    try {
      const answer = await call("POST", "/preview", { filter: current() });
      if (mine !== asked) return;
      if ($("builder-error").textContent === countSaid) $("builder-error").textContent = "";
      shown.textContent = answer.timed_out ? T.segments_count_slow
        : say(answer.capped ? "segments_count_capped" : answer.count === 1 ? "segments_count_one" : "segments_count", { count: answer.count });
    } catch (error) {
      if (mine !== asked) return;
      shown.textContent = "";
      countSaid = $("builder-error").textContent = error.message;
    }
  }

  async function save(event) {
    event.preventDefault();
    clearTimeout(timer);  // a live count still to come must not overwrite what the save says
    asked++;
    const payload = { name: $("segment-name").value, filter: current() };
    try {
      const saved = segmentId ? await call("PATCH", "/" + segmentId, payload) : await call("POST", "", payload);
      window.location.assign("/app/segments/" + saved.id);
      return window.KithDom.once.LEAVING;  // a press before it goes must not save again
    } catch (error) {
      // Every bad place marked at its control, the first focused; the line above says the
      // first, and how many there are when there are several.
      const marked = error.fields && error.fields.length ? error : null;
      markFields($("builder"), marked);
      const more = marked ? marked.fields.length - 1 : 0;
      $("builder-error").textContent = more ? say("segments_more_problems", { first: error.message, count: more }) : error.message;
      if (error.field === "name") {
        $("segment-name").setAttribute("aria-invalid", "true");
        $("segment-name").focus();
      }
    }
  }

  // The list and the members --------------------------------------------------------------
  async function loadList(cursor) {
    const page = await call("GET", cursor ? "?cursor=" + encodeURIComponent(cursor) : "");
    const rows = $("segment-list").tBodies[0];
    for (const s of page.items) {
      rows.append(h("tr", {},
        h("td", {}, h("a", { href: "/app/segments/" + s.id }, s.name)),
        h("td", {}, s.size),
        h("td", {}, s.last_reconciled_at
          ? h("time", { datetime: s.last_reconciled_at }, dateTime(s.last_reconciled_at)) : "—")));
    }
    $("list-empty").hidden = rows.children.length > 0;
    const more = $("list-more");
    more.hidden = !page.next_cursor;
    more.onclick = () => loadList(page.next_cursor);
  }

  async function loadMembers(cursor) {
    const page = await call("GET", `/${segmentId}/customers` + (cursor ? "?cursor=" + encodeURIComponent(cursor) : ""));
    const rows = $("member-list").tBodies[0];
    for (const c of page.items) {
      const contact = h("a", { href: "/app/contacts/" + encodeURIComponent(c.id) }, c.name || c.id);  // a text node
      rows.append(h("tr", {}, h("td", {}, contact), h("td", {}, (c.tags || []).join(", ")), h("td", {}, (c.channels || []).join(", "))));
    }
    $("members-empty").hidden = rows.children.length > 0;
    const more = $("members-more");
    more.hidden = !page.next_cursor;
    more.onclick = () => loadMembers(page.next_cursor);
  }

  function wireSegmentButtons() {
    const reconcile = $("reconcile");
    if (reconcile) reconcile.addEventListener("click", async () => {
      const answer = await call("POST", `/${segmentId}/reconcile`);
      $("segment-size").textContent = answer.size;
      $("notice").textContent = say("segments_reconciled_now", answer.fixed);
    });
    const remove = $("delete");
    // Asked in the page's own dialog (confirm_dialog.html), as every page asks; once at a time.
    if (remove) window.KithDom.once(remove, async () => {
      if (!(await window.KithDom.confirmed(T.segments_delete_confirm))) return undefined;
      const said = $("delete-error");
      said.textContent = "";
      remove.removeAttribute("aria-invalid");
      try {
        await call("DELETE", "/" + segmentId);
      } catch (error) {  // in use by a broadcast or a sequence (409, naming them): said here
        said.textContent = error.message;
        remove.focus();
        return undefined;
      }
      window.location.assign("/app/segments");
      return window.KithDom.once.LEAVING;
    });
  }

  const asTree = (parsed) => (parsed.children ? parsed : { mode: "all", children: [parsed] });

  // The saved filter into the builder; one it cannot hold stays as it is, and says why.
  function held(raw) {
    try {
      tree = asTree(fromFilter(raw));
    } catch (error) {
      if (!(error instanceof NotAFilter)) throw error;
      unheld = raw;
      $("builder-error").textContent = error.message;
      $("filter-json").closest("details").open = true;
    }
  }

  function start() {
    if (segmentId) {
      loadMembers().catch((e) => { $("notice").textContent = e.message; });
      wireSegmentButtons();
    } else {
      loadList().catch((e) => { $("notice").textContent = e.message; });
    }
    const builder = $("builder");
    if (!builder) return;
    const stored = $("filter-json").value.trim();
    if (stored) held(JSON.parse(stored));
    window.KithDom.once(builder, save);  // a double Enter makes one segment
    $("segment-name").addEventListener("input", (e) => e.target.removeAttribute("aria-invalid"));
    $("apply-json").addEventListener("click", () => {
      const text = $("filter-json").value;
      let raw;
      try {
        raw = JSON.parse(text);
      } catch (error) {
        $("builder-error").textContent = jsonProblem(error, text);
        $("filter-json").focus();
        return;
      }
      try {
        tree = asTree(fromFilter(raw));
        unheld = null;
        $("builder-error").textContent = "";
        redraw();
      } catch (error) {
        if (!(error instanceof NotAFilter)) throw error;
        $("builder-error").textContent = error.message;
        $("filter-json").focus();
      }
    });
    redraw();
  }

  start();
})();

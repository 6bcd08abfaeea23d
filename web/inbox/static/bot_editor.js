// Settings → Bots: a bot's definition (`kith.bots.flows.BotDefinition`) as a form, and the
// same definition as JSON under "Advanced: JSON". Both tabs edit one object (`state.bot`):
// the form writes into it as controls change (a field nobody touched stays exactly as it
// was, so opening a bot and saving it changes nothing), the JSON tab is that object written
// out, and going back to the form reads it again (bad JSON keeps you on the JSON tab).
//
// Steps are drawn from the server's step types (`/app/api/bot-step-types`: each type's JSON
// schema and which of its fields name another step), so a feature's step types get a form
// too: texts, numbers, yes/no, choices, texts by language, lists of rows; a field the
// drawing does not know is a small JSON box. Every control has a label and an id made from
// its field (`flows.0.steps.2.team_id`), which is also its `data-field`: the page marks a
// refusal's fields there (`KithDom.markFields`). Customer text only ever goes in values and
// text nodes.
"use strict";

(() => {
  const { T, ApiError, api, h, fill, confirmed } = window.KithDom;
  const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  const LANGUAGES = ["en", "zh"];
  const KINDS = ["first_message", "keyword", "regex", "intent", "button", "event", "schedule"];
  const WORKDAY = ["09:00", "18:00"];
  const say = (key, fallback) => T[key] || fallback || key;

  function create({ panel, textarea, tabs, canEdit, onError }) {
    const state = {
      bot: {},
      tab: "form",
      types: new Map(),  // name → { schema, refs: Set of paths in the step, a list's items as * }
      channels: [],
      teams: [],
      badJson: new Map(),  // field → message, for the JSON boxes of fields the form cannot draw
      // The flows shown unfolded (by object, so a move keeps them): all of a small bot's,
      // none of a larger one's until asked, a new one's; and any holding a refused field.
      unfolded: new WeakSet(),
    };
    const FOLD_ABOVE = 2;  // flows: more than this, and a loaded bot shows them folded
    const ready = api("GET", "/bot-step-types").then((answer) => {
      for (const item of answer.items) {
        state.types.set(item.type, { schema: item.schema, refs: new Set(item.step_refs) });
      }
    });

    // ---- tabs ------------------------------------------------------------------------------

    function showTab(name, focus = false) {
      state.tab = name;
      for (const tab of tabs) {
        const on = tab.dataset.tab === name;
        tab.setAttribute("aria-selected", String(on));
        tab.tabIndex = on ? 0 : -1;
        document.getElementById(tab.getAttribute("aria-controls")).hidden = !on;
        if (on && focus) tab.focus();
      }
    }

    // To the JSON tab: the definition written out. To the form: the JSON read back, or, when
    // it does not parse, the error, and the JSON tab stays.
    function switchTo(name, focus) {
      if (name === state.tab) return showTab(name, focus);
      if (name === "json") {
        textarea.value = JSON.stringify(state.bot, null, 2);
      } else {
        try {
          takeParsed();
        } catch (error) {
          onError(error);
          return;
        }
        onError(null);
        render();
      }
      showTab(name, focus);
    }

    for (const tab of tabs) {
      tab.addEventListener("click", () => switchTo(tab.dataset.tab, true));
      tab.addEventListener("keydown", (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (!step) return;
        event.preventDefault();
        const n = (tabs.indexOf(tab) + step + tabs.length) % tabs.length;
        switchTo(tabs[n].dataset.tab, true);
      });
    }

    function parsed() {
      let value;
      try {
        value = JSON.parse(textarea.value);
      } catch (error) {
        throw new ApiError(`${T.bad_json} ${error.message}`, "JSON");
      }
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new ApiError(T.bad_json_object, "JSON");
      }
      return value;
    }

    // ---- what the page calls -------------------------------------------------------------

    // Open a definition (a copy: nothing is written until it is saved), on the form's tab.
    // The JSON tab's bot in place of the form's; its flows folded as those at their places were.
    function takeParsed() {
      const bot = parsed();
      const open = flows().map((flow) => state.unfolded.has(flow));
      state.bot = bot;
      state.unfolded = new WeakSet(flows().filter((flow, n) => open[n] ?? true));
    }

    async function load(definition) {
      state.bot = JSON.parse(JSON.stringify(definition));
      state.badJson.clear();
      state.unfolded = new WeakSet(flows().length > FOLD_ABOVE ? [] : flows());
      textarea.value = JSON.stringify(state.bot, null, 2);
      await ready;
      render();
      showTab(state.tab === "json" ? "json" : "form");
    }

    // What to save: the JSON tab's text when it is shown, else the form's; refused, naming
    // the fields, when either does not parse.
    function value() {
      if (state.tab === "json") {
        takeParsed();
        render();
      }
      if (state.badJson.size) {
        const fields = [...state.badJson].map(([field, message]) => ({ field, message }));
        throw new ApiError(fields[0].message, fields[0].field, { fields });
      }
      return JSON.parse(JSON.stringify(state.bot));
    }

    function setLists({ channels, teams }) {
      state.channels = channels;
      state.teams = teams;
      if (state.types.size) render();
    }

    // ---- drawing ---------------------------------------------------------------------------

    // The whole form again (after a structural change: a row added, moved or removed), with
    // focus back on the control of the same field, or on `focusId`.
    function render(focusId) {
      const active = document.activeElement;
      const keep = focusId || (active && panel.contains(active) ? active.id : null);
      panel.replaceChildren(
        botPart(),
        hoursPart(),
        flowsPart(),
      );
      let target = keep && document.getElementById(keep);
      if (target && target.disabled) {  // moved to the top or the bottom: the other way
        const other = keep.replace(/\.(up|down)$/, (_, way) => (way === "up" ? ".down" : ".up"));
        target = document.getElementById(other) || target;
      }
      const fold = target && target.closest("details");
      if (fold) fold.open = true;
      if (target) target.focus();
    }

    const idOf = (path) => `be.${path}`;
    const slot = (path) => h("span", { class: "field-error", "data-error-for": path });

    // A labelled control bound to `holder` (its get and set), named `path`.
    function row(label, control, path, hint) {
      control.id = control.id || idOf(path);
      control.dataset.field = path;
      if (!canEdit) control.disabled = true;
      const hintId = hint ? `${control.id}.hint` : null;
      if (hintId) control.setAttribute("aria-describedby", hintId);
      const isBox = control.type === "checkbox";
      return h("div", { class: isBox ? "be-row be-check" : "be-row" },
        isBox ? control : null,
        h("label", { for: control.id }, label),
        isBox ? null : control,
        hint ? h("span", { class: "hint", id: hintId }, hint) : null,
        slot(path));
    }

    function holderOf(get, key) {
      return {
        get: () => {
          const parent = get();
          return parent && typeof parent === "object" ? parent[key] : undefined;
        },
        set: (value) => {
          const parent = get();
          if (value === undefined) delete parent[key];
          else parent[key] = value;
        },
      };
    }

    // A holder whose parent object is made when something is first written in it.
    function childOf(holder, key) {
      const parent = () => {
        let object = holder.get();
        if (!object || typeof object !== "object") {
          object = {};
          holder.set(object);
        }
        return object;
      };
      return holderOf(parent, key);
    }

    function textInput(holder, { empty = "", multiline = false } = {}) {
      const value = holder.get();
      const input = multiline ? h("textarea", { rows: 2 }) : h("input", { type: "text", autocomplete: "off" });
      input.value = value === null || value === undefined ? "" : String(value);
      input.addEventListener("input", () => holder.set(input.value === "" ? empty : input.value));
      return input;
    }

    function numberInput(holder, schema, nullable) {
      const value = holder.get();
      const input = h("input", { type: "number", step: schema.type === "integer" ? "1" : "any" });
      input.value = value === null || value === undefined ? "" : String(value);
      input.addEventListener("input", () => {
        if (input.value === "") holder.set(nullable ? null : undefined);
        else holder.set(Number(input.value));
      });
      return input;
    }

    function checkbox(holder, byDefault) {
      const value = holder.get();
      const input = h("input", { type: "checkbox" });
      input.checked = value === undefined || value === null ? Boolean(byDefault) : Boolean(value);
      input.addEventListener("change", () => holder.set(input.checked));
      return input;
    }

    // A select of `options` ([value, label]); a value not among them is kept as an option.
    function select(holder, options, { none = null, byDefault } = {}) {
      const value = holder.get() ?? byDefault;
      const choices = [...options];
      if (none !== null) choices.unshift(["", none]);
      if (value !== undefined && value !== null && !choices.some(([v]) => v === String(value))) {
        choices.push([String(value), String(value)]);
      }
      const input = h("select", {}, choices.map(([v, label]) => h("option", { value: v }, label)));
      input.value = value === undefined || value === null ? "" : String(value);
      input.addEventListener("change", () => holder.set(input.value === "" ? null : input.value));
      return input;
    }

    // A text in English and Chinese: a plain text stays one while only its English changes;
    // other languages' texts are kept. A text the bot says (multiline: not a button's label)
    // says which placeholders it fills (`BotEngine.fill`), since `{{ … }}` is refused.
    function localized(label, holder, path, { multiline = true } = {}) {
      const value = holder.get();
      const hintId = multiline ? `${idOf(path)}.hint` : null;
      const group = h("div", { class: "be-group", role: "group", "aria-labelledby": `${idOf(path)}.label`, "data-field": path });
      group.append(h("span", { class: "be-group-label", id: `${idOf(path)}.label` }, label));
      for (const language of LANGUAGES) {
        const id = `${idOf(path)}.${language}`;
        const name = label + fill(T.in_parens, { text: say("be_lang_" + language) });
        const input = multiline ? h("textarea", { rows: 2, id, "aria-label": name })
          : h("input", { type: "text", id, autocomplete: "off", "aria-label": name });
        input.value = typeof value === "string" ? (language === "en" ? value : "")
          : (value && value[language]) || "";
        if (!canEdit) input.disabled = true;
        if (hintId) input.setAttribute("aria-describedby", hintId);
        input.addEventListener("input", () => {
          const current = holder.get();
          const texts = typeof current === "string" ? { en: current }
            : { ...(current && typeof current === "object" ? current : {}) };
          if (input.value === "") delete texts[language];
          else texts[language] = input.value;
          const plain = typeof current === "string" && Object.keys(texts).every((k) => k === "en");
          if (plain) holder.set(texts.en === undefined ? "" : texts.en);
          else holder.set(Object.keys(texts).length ? texts : undefined);
        });
        group.append(h("label", { for: id, class: "be-lang" }, say("be_lang_" + language)), input);
      }
      if (hintId) group.append(h("span", { class: "hint", id: hintId }, say("be_text_placeholders")));
      group.append(slot(path));
      return group;
    }

    function lines(holder) {
      const value = holder.get();
      const input = h("textarea", { rows: 3 });
      input.value = Array.isArray(value) ? value.join("\n") : "";
      input.addEventListener("input", () => {
        holder.set(input.value.split("\n").map((v) => v.replace(/\r$/, "")).filter((v) => v.trim()));
      });
      return input;
    }

    function jsonBox(holder, path) {
      const value = holder.get();
      const input = h("textarea", { rows: 3, spellcheck: "false", class: "be-json" });
      input.value = value === undefined ? "" : JSON.stringify(value, null, 2);
      input.addEventListener("input", () => {
        if (input.value.trim() === "") {
          state.badJson.delete(path);
          input.removeAttribute("aria-invalid");
          holder.set(undefined);
          return;
        }
        try {
          holder.set(JSON.parse(input.value));
          state.badJson.delete(path);
          input.removeAttribute("aria-invalid");
        } catch (error) {
          state.badJson.set(path, `${T.bad_json} ${error.message}`);
          input.setAttribute("aria-invalid", "true");
        }
      });
      return input;
    }

    function button(text, label, onclick, extra = {}) {
      return h("button", { type: "button", "aria-label": label, onclick, ...extra }, text);
    }

    // ---- the bot ---------------------------------------------------------------------------

    function botPart() {
      const top = () => state.bot;
      const part = h("fieldset", { class: "be-part" }, h("legend", {}, say("be_bot", "Bot")));
      part.append(row(T.name, textInput(holderOf(top, "name")), "name"));
      part.append(row(T.enabled, checkbox(holderOf(top, "enabled"), true), "enabled"));
      part.append(channelsPart());
      const teams = state.teams.map((t) => [t.id, t.name]);
      part.append(row(T.team, select(holderOf(top, "team_id"), teams, { none: T.no_team }), "team_id",
        say("be_team_hint")));
      part.append(row(say("be_knowledge_base"), checkbox(holderOf(top, "knowledge_base"), true), "knowledge_base"));
      part.append(row(say("be_kb_threshold"),
        numberInput(holderOf(top, "kb_threshold"), { type: "number" }, false), "kb_threshold",
        say("be_kb_threshold_hint")));
      part.append(localized(say("be_field_fallback_text"), holderOf(top, "fallback_text"), "fallback_text"));
      part.append(localized(say("be_field_handoff_text"), holderOf(top, "handoff_text"), "handoff_text"));
      return part;
    }

    // Checkboxes by channel name; none ticked is said in words: the bot answers nowhere (a bot
    // serves the channels it lists, `BotEngine.bot_for`). A ticked box is the field of its
    // place in `channel_ids` (`channel_ids.1`), with its own slot, so that a refusal of that
    // channel (another enabled bot serves it) is marked at it.
    function channelsPart() {
      const chosen = () => (Array.isArray(state.bot.channel_ids) ? state.bot.channel_ids : []);
      const known = state.channels.map((c) => [c.id, `${c.name} (${c.type})`]);
      for (const id of chosen()) if (!known.some(([k]) => k === id)) known.push([id, id]);
      const everywhere = h("p", { class: "hint warn", id: "be.channels.all", "aria-live": "polite" });
      const showEverywhere = () => {
        everywhere.textContent = chosen().length ? "" : say("be_no_channels");
      };
      const box = h("fieldset", { class: "choices", "data-field": "channel_ids", "aria-describedby": "be.channels.all" },
        h("legend", {}, T.channels));
      const list = h("div");
      const places = [];
      const numberPlaces = () => {
        for (const { id, input, error } of places) {
          const n = chosen().indexOf(id);
          for (const [node, name] of [[input, "field"], [error, "errorFor"]]) {
            if (n < 0) delete node.dataset[name];
            else node.dataset[name] = `channel_ids.${n}`;
          }
        }
      };
      for (const [id, label] of known) {
        const input = h("input", { type: "checkbox", id: idOf(`channel_ids.${id}`), value: id });
        const error = h("span", { class: "field-error" });
        input.checked = chosen().includes(id);
        if (!canEdit) input.disabled = true;
        input.addEventListener("change", () => {
          const now = chosen().filter((c) => c !== id);
          state.bot.channel_ids = input.checked ? [...chosen(), id] : now;
          numberPlaces();
          showEverywhere();
        });
        places.push({ id, input, error });
        list.append(h("span", { class: "be-choice" }, h("label", { class: "choice", for: input.id }, input, " ", label), error));
      }
      numberPlaces();
      if (!known.length) list.append(h("span", { class: "hint" }, T.none_yet));
      box.append(list, slot("channel_ids"), everywhere);
      showEverywhere();
      return box;
    }

    function hoursPart() {
      const top = () => state.bot;
      const hours = holderOf(top, "business_hours");
      const part = h("fieldset", { class: "be-part", "data-field": "business_hours" },
        h("legend", {}, say("be_business_hours")));
      const on = h("input", { type: "checkbox", id: "be.business_hours.on" });
      on.checked = Boolean(hours.get());
      if (!canEdit) on.disabled = true;
      on.addEventListener("change", () => {
        hours.set(on.checked ? { timezone: "UTC", days: Object.fromEntries(DAYS.slice(0, 5).map((d) => [d, [...WORKDAY]])) } : null);
        render("be.business_hours.on");
      });
      part.append(h("div", { class: "be-row be-check" }, on,
        h("label", { for: on.id }, say("be_keep_hours")), slot("business_hours")));
      if (hours.get()) {
        const zone = textInput(childOf(hours, "timezone"), { empty: "UTC" });
        zone.setAttribute("list", "be.zones");
        part.append(row(say("be_timezone"), zone, "business_hours.timezone"), zoneList());
        const days = childOf(hours, "days");
        // A bot stored without `days` opens on the default week (the server's), made real
        // when a day is changed.
        const week = () => {
          if (!days.get()) days.set(Object.fromEntries(DAYS.slice(0, 5).map((d) => [d, [...WORKDAY]])));
          return days.get();
        };
        const shown = days.get() || Object.fromEntries(DAYS.slice(0, 5).map((d) => [d, WORKDAY]));
        const table = h("div", { class: "be-days", "data-field": "business_hours.days" });
        for (const day of DAYS) {
          const open = Array.isArray(shown[day]);
          const dayName = say("be_day_" + day);
          const openBox = h("input", { type: "checkbox", id: idOf(`business_hours.days.${day}`), checked: open });
          const from = h("input", { type: "time", id: idOf(`business_hours.days.${day}.0`), "aria-label": `${dayName}${T.colon}${say("be_from")}` });
          const to = h("input", { type: "time", id: idOf(`business_hours.days.${day}.1`), "aria-label": `${dayName}${T.colon}${say("be_to")}` });
          from.value = open ? shown[day][0] || "" : "";
          to.value = open ? shown[day][1] || "" : "";
          for (const input of [openBox, from, to]) {
            if (!canEdit) input.disabled = true;
            input.dataset.field = `business_hours.days.${day}`;
          }
          from.disabled = to.disabled = !canEdit || !open;
          openBox.addEventListener("change", () => {
            const all = week();
            if (openBox.checked) all[day] = [from.value || WORKDAY[0], to.value || WORKDAY[1]];
            else delete all[day];
            render(openBox.id);
          });
          for (const [n, input] of [[0, from], [1, to]]) {
            input.addEventListener("input", () => {
              const all = week();
              all[day] = [...(all[day] || WORKDAY)];
              all[day][n] = input.value;
            });
          }
          table.append(h("div", { class: "be-day" },
            openBox, h("label", { for: openBox.id }, dayName), from, h("span", { "aria-hidden": "true" }, "–"), to,
            slot(`business_hours.days.${day}`)));
        }
        part.append(table);
      }
      part.append(localized(say("be_field_away_text"), holderOf(top, "away_text"), "away_text"));
      return part;
    }

    function zoneList() {
      const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
      return h("datalist", { id: "be.zones" }, ["UTC", ...zones].map((z) => h("option", { value: z })));
    }

    // ---- flows -------------------------------------------------------------------------------

    function flows() {
      if (!Array.isArray(state.bot.flows)) state.bot.flows = [];
      return state.bot.flows;
    }

    // Move item `n` of `list` by `by` (-1 up, +1 down), then draw again with focus on `focus(n')`.
    function move(list, n, by, focus) {
      const to = n + by;
      if (to < 0 || to >= list.length) return;
      [list[n], list[to]] = [list[to], list[n]];
      render(focus(to));
    }

    function flowsPart() {
      const list = Array.isArray(state.bot.flows) ? state.bot.flows : [];
      const part = h("fieldset", { class: "be-part", "data-field": "flows" },
        h("legend", {}, T.flows), slot("flows"));
      if (!list.length) part.append(h("p", { class: "hint" }, say("be_no_flows")));
      list.forEach((flow, n) => part.append(flowPart(list, flow, n)));
      if (canEdit) {
        part.append(h("div", { class: "buttons" }, button(say("be_add_flow"), say("be_add_flow"), () => {
          const all = flows();
          const ids = new Set(all.map((f) => f.id));
          let k = all.length + 1;
          while (ids.has(`flow_${k}`)) k++;
          const flow = { id: `flow_${k}`, name: "", trigger: { kind: "keyword", values: [] }, steps: [] };
          all.push(flow);
          state.unfolded.add(flow);
          render(idOf(`flows.${all.length - 1}.name`));
        }, { id: "be.add-flow" })));
      }
      return part;
    }

    function flowPart(list, flow, n) {
      const path = `flows.${n}`;
      const name = `${say("be_flow")} ${n + 1}`;
      const here = () => state.bot.flows[n];
      const part = h("fieldset", { class: "be-flow", "data-field": path }, h("legend", {}, name), slot(path));
      if (canEdit) {
        part.append(h("div", { class: "be-tools" },
          button(say("be_move_up"), `${say("be_move_up")}${T.colon}${name}`, () => move(list, n, -1, (k) => idOf(`flows.${k}.up`)),
            { id: idOf(`${path}.up`), disabled: n === 0 }),
          button(say("be_move_down"), `${say("be_move_down")}${T.colon}${name}`, () => move(list, n, 1, (k) => idOf(`flows.${k}.down`)),
            { id: idOf(`${path}.down`), disabled: n === list.length - 1 }),
          button(say("be_remove"), `${say("be_remove")}${T.colon}${name}`, async () => {
            const steps = Array.isArray(flow.steps) ? flow.steps.length : 0;
            if (steps && !(await confirmed(fill(say("be_remove_flow_confirm"), { name: flow.name || flow.id, n: steps })))) return;
            list.splice(n, 1);
            render(list.length ? idOf(`flows.${Math.min(n, list.length - 1)}.name`) : "be.add-flow");
          }, { id: idOf(`${path}.remove`), class: "danger" })));
      }
      // Folded, a flow says what it is in one line: its name, how it starts, its steps.
      const fold = h("details", { class: "be-fold" }, h("summary", {}, flowSummary(flow)));
      fold.open = state.unfolded.has(flow);
      fold.addEventListener("toggle", () => {
        if (fold.open) state.unfolded.add(flow);
        else state.unfolded.delete(flow);
      });
      fold.append(
        row(say("be_flow_id"), textInput(holderOf(here, "id")), `${path}.id`),
        row(T.name, textInput(holderOf(here, "name")), `${path}.name`),
        triggerPart(n),
        stepsPart(n),
      );
      part.append(fold);
      return part;
    }

    function flowSummary(flow) {
      const kind = flow.trigger && flow.trigger.kind;
      const steps = Array.isArray(flow.steps) ? flow.steps.length : 0;
      return fill(say(steps === 1 ? "be_flow_summary_one" : "be_flow_summary"), {
        name: flow.name || flow.id || "",
        trigger: say(`be_kind_${kind}`, kind || ""),
        n: steps,
      });
    }

    function triggerPart(n) {
      const path = `flows.${n}.trigger`;
      const parent = holderOf(() => state.bot.flows[n], "trigger");
      const field = (key) => childOf(parent, key);
      const part = h("fieldset", { class: "be-trigger", "data-field": path },
        h("legend", {}, say("be_trigger")), slot(path));
      const kinds = KINDS.map((k) => [k, say("be_kind_" + k, k)]);
      const kind = select(field("kind"), kinds);
      kind.addEventListener("change", () => render(kind.id));
      part.append(row(say("be_trigger_kind"), kind, `${path}.kind`));
      const current = (state.bot.flows[n].trigger || {}).kind;
      if (current === "schedule") {
        const values = field("values");
        const cron = h("input", { type: "text", autocomplete: "off" });
        const now = values.get();
        cron.value = Array.isArray(now) ? now.join(" ") : "";
        cron.addEventListener("input", () => values.set(cron.value.trim() ? [cron.value.trim()] : []));
        part.append(row(say("be_cron"), cron, `${path}.values`, say("be_cron_hint")));
        part.append(row(say("be_timezone"), textInput(field("timezone"), { empty: null }), `${path}.timezone`,
          say("be_schedule_zone_hint")));
        part.append(row(say("be_reply_window"),
          numberInput(field("reply_window_hours"), { type: "number" }, false), `${path}.reply_window_hours`,
          say("be_reply_window_hint")));
      } else if (current !== "first_message") {
        part.append(row(say("be_trigger_values"), lines(field("values")), `${path}.values`,
          say("be_values_hint_" + current, say("be_values_hint"))));
      }
      return part;
    }

    // ---- steps -------------------------------------------------------------------------------

    function stepsPart(n) {
      const path = `flows.${n}.steps`;
      const flow = state.bot.flows[n];
      const list = Array.isArray(flow.steps) ? flow.steps : [];
      const ids = list.map((s) => (s && typeof s.id === "string" ? s.id : "")).filter(Boolean);
      const part = h("fieldset", { class: "be-steps", "data-field": path },
        h("legend", {}, say("be_steps")), slot(path));
      list.forEach((step, i) => part.append(stepPart(list, step, n, i, ids)));
      if (canEdit) {
        const types = [...state.types.keys()].map((t) => [t, typeName(t)]);
        const kind = h("select", { id: idOf(`${path}.new-type`) },
          types.map(([v, label]) => h("option", { value: v }, label)));
        const add = button(say("be_add_step"), `${say("be_add_step")}${T.colon}${say("be_flow")} ${n + 1}`, () => {
          if (!Array.isArray(flow.steps)) flow.steps = [];
          const taken = new Set(flow.steps.map((s) => s && s.id));
          let k = flow.steps.length + 1;
          while (taken.has(`${kind.value}_${k}`)) k++;
          flow.steps.push({ id: `${kind.value}_${k}`, type: kind.value });
          render(firstControlOf(`${path}.${flow.steps.length - 1}`, kind.value));
        }, { id: idOf(`${path}.add`) });
        part.append(h("div", { class: "inline be-add" },
          h("label", { for: kind.id }, say("be_step_type")), kind, add));
      }
      return part;
    }

    // The control to focus in a new step: its first field after its id, else its id.
    function firstControlOf(path, type) {
      const known = state.types.get(type);
      const first = known && Object.keys(known.schema.properties || {}).find((k) => k !== "id" && k !== "type");
      if (!first) return idOf(`${path}.id`);
      const shape = shapeOf(known.schema.properties[first], known.schema);
      return shape.kind === "localized" ? `${idOf(`${path}.${first}`)}.en` : idOf(`${path}.${first}`);
    }

    function typeName(type) {
      const known = state.types.get(type);
      return say("be_step_" + type, (known && known.schema.title) || type);
    }

    function stepPart(list, step, n, i, ids) {
      const path = `flows.${n}.steps.${i}`;
      const type = step && step.type;
      const name = `${say("be_step")} ${i + 1}`;
      const here = () => state.bot.flows[n].steps[i];
      const part = h("fieldset", { class: "be-step", "data-field": path },
        h("legend", {}, `${name}${T.colon}${typeName(type)}`), slot(path));
      if (canEdit) {
        const steps = `flows.${n}.steps`;
        part.append(h("div", { class: "be-tools" },
          button(say("be_move_up"), `${say("be_move_up")}${T.colon}${name}`, () => move(list, i, -1, (k) => idOf(`${steps}.${k}.up`)),
            { id: idOf(`${path}.up`), disabled: i === 0 }),
          button(say("be_move_down"), `${say("be_move_down")}${T.colon}${name}`, () => move(list, i, 1, (k) => idOf(`${steps}.${k}.down`)),
            { id: idOf(`${path}.down`), disabled: i === list.length - 1 }),
          button(say("be_remove"), `${say("be_remove")}${T.colon}${name}`, () => {
            list.splice(i, 1);
            render(list.length ? idOf(`${steps}.${Math.min(i, list.length - 1)}.remove`) : idOf(`${steps}.add`));
          }, { id: idOf(`${path}.remove`), class: "danger" })));
      }
      const stepId = textInput(holderOf(here, "id"));
      // The jump selects list the new id, once focus has gone where the key sent it.
      stepId.addEventListener("change", () => setTimeout(() => render(), 0));
      part.append(row(say("be_step_id"), stepId, `${path}.id`));
      const known = state.types.get(type);
      if (!known) {  // a type this app does not have: the step as JSON
        part.append(row(say("be_step_json"), jsonBox({ get: here, set: (v) => { state.bot.flows[n].steps[i] = v; } }, path),
          `${path}.type`));
        return part;
      }
      const context = { root: known.schema, refs: known.refs, ids };
      const required = new Set(known.schema.required || []);
      for (const [key, schema] of Object.entries(known.schema.properties || {})) {
        if (key === "id" || key === "type") continue;
        part.append(fieldFor(key, schema, holderOf(here, key), `${path}.${key}`, key, context, required.has(key)));
      }
      return part;
    }

    // ---- a field from its JSON schema ----------------------------------------------------

    function resolve(schema, root) {
      let s = schema || {};
      for (let hops = 0; s.$ref && hops < 10; hops++) {
        s = { ...(root.$defs || {})[s.$ref.split("/").pop()], ...withoutRef(s) };
      }
      return s;
    }

    function withoutRef(s) {
      const { $ref, ...rest } = s;
      return rest;
    }

    function isText(s) {
      return s.type === "string" && !s.enum && s.const === undefined;
    }

    // What a schema is, for drawing: `kind` and whether null is allowed.
    function shapeOf(schema, root) {
      let s = resolve(schema, root);
      let nullable = false;
      if (s.anyOf) {
        const members = s.anyOf.map((m) => resolve(m, root)).filter((m) => {
          if (m.type === "null") nullable = true;
          return m.type !== "null";
        });
        if (members.length === 1) {
          s = { ...members[0], title: s.title, default: s.default };
        } else {
          const text = members.find(isText);
          const texts = members.find((m) => m.type === "object" && m.patternProperties
            && Object.values(m.patternProperties).every((v) => isText(resolve(v, root))));
          if (members.length === 2 && text && texts) return { kind: "localized", nullable, s, short: Boolean(text.maxLength) };
          return { kind: "json", nullable, s };
        }
      }
      if (s.const !== undefined) return { kind: "const", s };
      if (Array.isArray(s.enum)) return { kind: "enum", nullable, s };
      if (s.type === "string") return { kind: "string", nullable, s };
      if (s.type === "integer" || s.type === "number") return { kind: "number", nullable, s };
      if (s.type === "boolean") return { kind: "boolean", nullable, s };
      if (s.type === "array" && s.items) {
        const item = shapeOf(s.items, root);
        if (item.kind === "string" && !item.nullable) return { kind: "lines", nullable, s };
        if (item.kind === "object" || item.kind === "localized") return { kind: "rows", nullable, s, item };
        return { kind: "json", nullable, s };
      }
      if (s.type === "object" && s.properties) return { kind: "object", nullable, s };
      return { kind: "json", nullable, s };
    }

    function labelOf(key, schema) {
      return say("be_field_" + key, (schema && schema.title) || key);
    }

    // `rel` is the field's path in its step with a list's items as `*` (how `refs` names them).
    function fieldFor(key, schema, holder, path, rel, context, required) {
      const shape = shapeOf(schema, context.root);
      const s = shape.s || {};
      const label = labelOf(key, s.title ? s : resolve(schema, context.root));
      const hint = null;
      switch (shape.kind) {
        case "const":
          return h("span");
        case "localized":
          return localized(label, holder, path, { multiline: !shape.short });
        case "string": {
          if (context.refs.has(rel)) {
            const options = context.ids.map((id) => [id, id]);
            const none = shape.nullable || !required ? say("be_no_step") : say("be_pick_step");
            return row(label, select(holder, options, { none }), path, hint);
          }
          if (key === "team_id") {
            const teams = state.teams.map((t) => [t.id, t.name]);
            return row(label, select(holder, teams, { none: T.no_team }), path, hint);
          }
          const empty = shape.nullable ? null : "";
          return row(label, textInput(holder, { empty }), path, hint);
        }
        case "number":
          return row(label, numberInput(holder, s, shape.nullable), path, hint);
        case "boolean":
          if (shape.nullable) {
            const holderText = {
              get: () => { const v = holder.get(); return v === true ? "yes" : v === false ? "no" : null; },
              set: (v) => holder.set(v === "yes" ? true : v === "no" ? false : null),
            };
            const options = [["yes", say("be_yes")], ["no", say("be_no")]];
            return row(label, select(holderText, options, { none: say("be_any") }), path, hint);
          }
          return row(label, checkbox(holder, s.default), path, hint);
        case "enum": {
          const options = s.enum.map((v) => [String(v), say("be_enum_" + v, String(v))]);
          const none = shape.nullable ? say("be_any") : null;
          return row(label, select(holder, options, { none, byDefault: s.default }), path, hint);
        }
        case "lines":
          return row(label, lines(holder), path, say("be_one_per_line"));
        case "object":
          return objectPart(label, s, holder, path, rel, context);
        case "rows":
          return rowsPart(key, label, shape, holder, path, rel, context);
        default:
          return row(label, jsonBox(holder, path), path, say("be_json_field_hint"));
      }
    }

    function objectPart(label, s, holder, path, rel, context) {
      const part = h("fieldset", { class: "be-object", "data-field": path }, h("legend", {}, label), slot(path));
      const required = new Set(s.required || []);
      for (const [key, schema] of Object.entries(s.properties || {})) {
        part.append(fieldFor(key, schema, childOf(holder, key), `${path}.${key}`, `${rel}.${key}`, context, required.has(key)));
      }
      return part;
    }

    // A list of rows (buttons, branch cases, choices, products …), each with Remove, and Add.
    function rowsPart(key, label, shape, holder, path, rel, context) {
      const list = Array.isArray(holder.get()) ? holder.get() : [];
      const part = h("fieldset", { class: "be-rows", "data-field": path }, h("legend", {}, label), slot(path));
      const itemName = say("be_item_" + key, label);
      const item = shape.item;
      list.forEach((value, j) => {
        const itemPath = `${path}.${j}`;
        const name = `${itemName} ${j + 1}`;
        const at = {
          get: () => holder.get()[j],
          set: (v) => { holder.get()[j] = v === undefined ? "" : v; },
        };
        const box = item.kind === "localized"
          ? h("div", { class: "be-item" }, localized(name, at, itemPath, { multiline: false }))
          : objectPart(name, item.s, at, itemPath, `${rel}.*`, context);
        if (canEdit) {
          box.append(h("div", { class: "be-tools" }, button(say("be_remove"), `${say("be_remove")}${T.colon}${name}`, () => {
            holder.get().splice(j, 1);
            render(idOf(`${path}.add`));
          }, { class: "danger", id: idOf(`${itemPath}.remove`) })));
        }
        part.append(box);
      });
      if (canEdit) {
        const add = fill(say("be_add_item"), { item: itemName.toLowerCase() });
        part.append(h("div", { class: "be-tools be-start" }, button(add, add, () => {
          let now = holder.get();
          if (!Array.isArray(now)) {
            now = [];
            holder.set(now);
          }
          now.push(item.kind === "localized" ? "" : {});
          render(firstOfRow(`${path}.${now.length - 1}`, item, context.root));
        }, { id: idOf(`${path}.add`) })));
      }
      return part;
    }

    function firstOfRow(path, item, root) {
      if (item.kind === "localized") return `${idOf(path)}.en`;
      const first = Object.entries(item.s.properties || {})[0];
      if (!first) return idOf(`${path}.add`);
      const inner = shapeOf(first[1], root);
      return inner.kind === "localized" ? `${idOf(`${path}.${first[0]}`)}.en` : idOf(`${path}.${first[0]}`);
    }

    // Focus the shown tab's first control: the bot's name, or the JSON from its top.
    function focus() {
      if (state.tab === "json") {
        textarea.setSelectionRange(0, 0);
        textarea.focus({ preventScroll: true });
        textarea.scrollTop = 0;
      } else {
        const name = document.getElementById(idOf("name"));
        if (name) name.focus({ preventScroll: true });
      }
    }

    return { load, value, setLists, focus };
  }

  window.KithBotEditor = Object.freeze({ create });
})();

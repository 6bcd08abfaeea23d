// Kith settings: SLA policies (targets per priority, the calendar they count in, which tickets
// they apply to, what a breach does: raise the priority, reassign, notify a team, each for the
// missed targets chosen), over /app/api/sla/policies (admins). Durations are typed
// as hours and minutes and sent as the API's minutes. Every stored string reaches the page
// through textContent (KithDom.h); nothing is parsed as HTML.
"use strict";

(() => {
  const { T, api, answer, h, say, confirmed, showRefusals, once, fill } = window.KithDom;
  const $ = (id) => document.getElementById(id);
  const PRIORITIES = ["low", "normal", "high", "urgent"];
  const METRICS = ["first_reply", "next_reply", "resolution"];
  const state = { policies: [], calendars: [], teams: [], users: [], editing: null };

  // ---- durations -----------------------------------------------------------------------------

  // 90 → "1 h 30 min" ("1 小时 30 分钟").
  function duration(minutes) {
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    const parts = [];
    if (hours) parts.push(fill(T.sla_hours_short, { n: hours }));
    if (rest || !hours) parts.push(fill(T.sla_minutes_short, { n: rest }));
    return parts.join(" ");
  }

  // Two boxes, hours and minutes, under the API's path (`path`) with their own error line.
  function durationBox(path, label, minutes) {
    const error = `${path.replaceAll(".", "-")}-error`;
    const given = minutes !== null && minutes !== undefined;
    const box = (unit, value) => h("label", { class: "sla-unit" },
      h("input", {
        type: "number", min: 0, step: 1, inputmode: "numeric", "data-unit": unit,
        value: given ? value : "", "aria-label": fill(T.sla_duration_part, { what: label, unit: T["sla_unit_" + unit] }), "aria-describedby": error,
      }),
      h("span", { "aria-hidden": "true" }, T[`sla_unit_${unit}_short`]));
    return h("div", { class: "sla-duration", "data-field": path },
      h("div", { class: "sla-units" }, box("hours", given ? Math.floor(minutes / 60) : ""), box("minutes", given ? minutes % 60 : "")),
      h("p", { class: "field-error", id: error }));
  }

  // The minutes two boxes hold: null when both are empty; a local refusal when one is not a
  // whole number (a number box holding letters reads as "", hence `badInput`).
  function minutesOf(box) {
    const [hours, minutes] = [...box.querySelectorAll("input")];
    if (hours.validity.badInput || minutes.validity.badInput) return { refused: T.sla_whole_numbers };
    const [a, b] = [hours.value.trim(), minutes.value.trim()];
    if (!a && !b) return { value: null };
    if (![a, b].every((v) => v === "" || /^\d+$/.test(v))) return { refused: T.sla_whole_numbers };
    return { value: Number(a || 0) * 60 + Number(b || 0) };
  }

  // ---- the policies' table -----------------------------------------------------------------

  const teamName = (id) => (state.teams.find((t) => t.id === id) || { name: T.sla_team_gone }).name;
  const userName = (id) => {
    const user = state.users.find((u) => u.id === id);
    return user ? user.name || user.email : T.sla_user_gone;
  };

  function appliesTo(policy) {
    const parts = [];
    if (policy.default) parts.push(T.sla_default_short);
    if (policy.team_id) parts.push(fill(T.sla_team_short, { team: teamName(policy.team_id) }));
    return parts.length ? parts.join(" · ") : h("span", { class: "hint" }, T.sla_applies_nothing);
  }

  function calendarCell(policy) {
    if (!policy.calendar_id) return T.sla_around_the_clock;
    const calendar = state.calendars.find((c) => c.id === policy.calendar_id);
    return h("a", { href: "/app/admin/hours" }, calendar ? calendar.name : T.sla_calendar_gone);
  }

  function targetsCell(policy) {
    const lines = PRIORITIES.filter((p) => policy.targets[p] && METRICS.some((m) => policy.targets[p][m]))
      .map((p) => h("li", {}, fill(T.sla_priority_targets, {
        priority: T["ticket_priority_" + p],
        targets: METRICS.filter((m) => policy.targets[p][m])
          .map((m) => `${T["ticket_sla_" + m]} ${duration(policy.targets[p][m])}`).join(" · "),
      })));
    return lines.length ? h("ul", { class: "plain sla-list" }, lines) : h("span", { class: "hint" }, T.sla_no_targets);
  }

  // What a breach does, one line per action; the missed targets named unless it is all three.
  function breachLine(action) {
    let text = action.type;
    if (action.type === "raise_priority") {
      text = action.to ? fill(T.sla_summary_raise_to, { priority: T["ticket_priority_" + action.to] }) : T.sla_summary_raise_step;
    } else if (action.type === "reassign") {
      const who = [action.team_id && teamName(action.team_id), action.user_id && userName(action.user_id)];
      text = fill(T.sla_summary_reassign, { who: who.filter(Boolean).join(" · ") });
    } else if (action.type === "notify_team") {
      text = fill(T.sla_summary_notify, { team: teamName(action.team_id) });
    }
    if (METRICS.every((m) => action.metrics.includes(m))) return text;
    const missed = METRICS.filter((m) => action.metrics.includes(m)).map((m) => T["ticket_sla_" + m]);
    return fill(T.sla_summary_when, { action: text, targets: missed.join(T.list_separator) });
  }

  function breachCell(policy) {
    const actions = policy.breach_actions || [];
    if (!actions.length) return h("span", { class: "hint" }, T.sla_summary_none);
    return h("ul", { class: "plain sla-list" }, actions.map((a) => h("li", {}, breachLine(a))));
  }

  function policyRow(policy) {
    return h("tr", { id: `policy-${policy.id}` },
      h("th", { scope: "row" }, policy.name),
      h("td", {}, appliesTo(policy)),
      h("td", {}, calendarCell(policy)),
      h("td", {}, targetsCell(policy)),
      h("td", {}, breachCell(policy)),
      h("td", { class: "actions" },
        h("button", { type: "button", "aria-label": `${T.edit}${T.colon}${policy.name}`, onclick: () => open(policy) }, T.edit),
        h("button", { type: "button", class: "danger", "aria-label": `${T.delete}${T.colon}${policy.name}`, onclick: (e) => remove(policy, e.currentTarget) }, T.delete)));
  }

  async function load() {
    const [policies, calendars, teams, users] = await Promise.all(
      [api("GET", "/sla/policies"), api("GET", "/sla/calendars"), api("GET", "/teams"), api("GET", "/users")]);
    Object.assign(state, { policies, calendars, teams: teams.items, users: users.items });
    $("policies").replaceChildren(...policies.map(policyRow));
    $("no-policies").hidden = policies.length > 0;
  }

  const editButton = (name) =>
    document.querySelector(`#policies button[aria-label="${CSS.escape(`${T.edit}${T.colon}${name}`)}"]`);

  async function remove(policy, button) {
    if (policy.default) {  // the server refuses too: every ticket would lose its SLA
      say(fill(T.sla_delete_default, { name: policy.name }), { error: true });
      button.focus();
      return;
    }
    if (!(await confirmed(fill(T.sla_delete_confirm, { name: policy.name })))) {
      if (button.isConnected) button.focus();
      return;
    }
    try {
      await answer("DELETE", `/sla/policies/${encodeURIComponent(policy.id)}`);
      say(T.sla_deleted);
    } catch (error) {
      say(error.reason === "default_policy" ? fill(T.sla_delete_default, { name: policy.name }) : error.message, { error: true });
    }
    await load();
    $("new-policy").focus();
  }

  // ---- the policy's form ---------------------------------------------------------------------

  const dialog = $("policy");
  const form = dialog.querySelector("form");

  function options(select, first, items, chosen) {
    select.replaceChildren(h("option", { value: "" }, first),
      ...items.map((item) => h("option", { value: item.id, selected: item.id === chosen }, item.name)));
    select.value = chosen || "";
  }

  // `items` with the stored choice kept even when it is gone from them, named `gone` (a
  // deleted team or user is shown, never silently dropped from the policy).
  const keeping = (items, chosen, gone) =>
    chosen && !items.some((item) => item.id === chosen) ? [...items, { id: chosen, name: gone }] : items;

  function targetRows(targets) {
    return PRIORITIES.map((p) => h("tr", {},
      h("th", { scope: "row" }, T["ticket_priority_" + p]),
      METRICS.map((m) => h("td", {}, durationBox(`targets.${p}.${m}`,
        `${T["ticket_priority_" + p]} · ${T["ticket_sla_" + m]}`, (targets[p] || {})[m])))));
  }

  // ---- breach actions: one of each kind is edited here; any further one of a kind, and any
  // kind this page does not know (a newer server's), is sent back as it was.

  const KINDS = ["raise_priority", "reassign", "notify_team"];
  const section = (kind) => form.querySelector(`.sla-action[data-action="${kind}"]`);

  function splitActions(actions) {
    const edited = {};
    const kept = [];
    for (const action of actions) {
      if (KINDS.includes(action.type) && !edited[action.type]) edited[action.type] = action;
      else kept.push(action);
    }
    return { edited, kept };
  }

  // The users a ticket can be given (enabled agents and admins), and the stored one whatever it is.
  function assignees(chosen) {
    const users = state.users.filter((u) => u.can_answer || u.id === chosen);
    return keeping(users.map((u) => ({ id: u.id, name: u.name || u.email })), chosen, T.sla_user_gone);
  }

  function raiseChoices(select, action) {
    const to = action ? action.to || "step" : "";
    const levels = PRIORITIES.filter((p) => p !== "low" || to === "low");  // never lowers: low only if stored
    select.replaceChildren(h("option", { value: "" }, T.sla_raise_off), h("option", { value: "step" }, T.sla_raise_step),
      ...levels.map((p) => h("option", { value: p }, T["ticket_priority_" + p])));
    select.value = to;
  }

  // Whether a kind is on, as its controls say.
  function isOn(kind) {
    const f = form.elements;
    if (kind === "raise_priority") return Boolean(f.raise_to.value);
    if (kind === "reassign") return Boolean(f.reassign_team.value || f.reassign_user.value);
    return Boolean(f.notify.value);
  }

  const metricBoxes = (kind) => [...section(kind).querySelectorAll('[data-part="metrics"] input')];

  // The missed targets that trigger a kind: shown only while it is on.
  function showMetrics() {
    for (const kind of KINDS) section(kind).querySelector('[data-part="metrics"]').hidden = !isOn(kind);
  }

  function fillActions(actions) {
    const { edited, kept } = splitActions(actions);
    const reassign = edited.reassign || {};
    const notify = edited.notify_team || {};
    raiseChoices(form.elements.raise_to, edited.raise_priority);
    options(form.elements.reassign_team, T.sla_reassign_keep_team, keeping(state.teams, reassign.team_id, T.sla_team_gone), reassign.team_id);
    options(form.elements.reassign_user, T.sla_reassign_keep_user, assignees(reassign.user_id), reassign.user_id);
    options(form.elements.notify, T.sla_notify_nobody, keeping(state.teams, notify.team_id, T.sla_team_gone), notify.team_id);
    for (const kind of KINDS) {
      const metrics = (edited[kind] || {}).metrics || METRICS;  // all, when the kind is off
      for (const box of metricBoxes(kind)) box.checked = metrics.includes(box.value);
    }
    showMetrics();
    $("policy-kept").hidden = !kept.length;
    $("policy-kept").textContent = kept.length ? fill(T.sla_kept_actions, { n: kept.length }) : "";
  }

  for (const kind of KINDS) section(kind).addEventListener("change", showMetrics);

  // The kinds switched on, in order, then the kept ones. Each part's `data-field` becomes its
  // path in the sent list (`breach_actions.1.user_id`), for the server's refusals to be shown
  // at their control; a kind switched on with no target ticked is refused here, at its boxes.
  function breachActions(refused) {
    const f = form.elements;
    const actions = [];
    for (const kind of KINDS) {
      const box = section(kind);
      const parts = [box, ...box.querySelectorAll("[data-part]")];
      if (!isOn(kind)) {
        for (const part of parts) part.removeAttribute("data-field");
        continue;
      }
      const at = `breach_actions.${actions.length}`;
      box.dataset.field = at;
      for (const part of box.querySelectorAll("[data-part]")) part.dataset.field = `${at}.${part.dataset.part}`;
      const metrics = metricBoxes(kind).filter((b) => b.checked).map((b) => b.value);
      if (!metrics.length) refused.push({ field: `${at}.metrics`, message: T.sla_breach_metrics_none });
      if (kind === "raise_priority") {
        actions.push({ type: kind, to: f.raise_to.value === "step" ? null : f.raise_to.value, metrics });
      } else if (kind === "reassign") {
        actions.push({ type: kind, team_id: f.reassign_team.value || null, user_id: f.reassign_user.value || null, metrics });
      } else {
        actions.push({ type: kind, team_id: f.notify.value, metrics });
      }
    }
    return [...actions, ...splitActions(state.editing ? state.editing.breach_actions : []).kept];
  }

  function open(policy) {
    state.editing = policy;
    const actions = policy ? policy.breach_actions : [{ type: "raise_priority" }];
    $("policy-heading").textContent = policy ? `${T.sla_edit}${T.colon}${policy.name}` : T.sla_new;
    form.elements.name.value = policy ? policy.name : "";
    const known = policy && policy.calendar_id && !state.calendars.some((c) => c.id === policy.calendar_id)
      ? [{ id: policy.calendar_id, name: T.sla_calendar_gone }] : [];
    options(form.elements.calendar_id, T.sla_around_the_clock, [...state.calendars, ...known], policy ? policy.calendar_id : (state.calendars[0] || {}).id);
    const team = policy && policy.team_id;  // a deleted one shown as removed: saving asks for another
    options(form.elements.team_id, T.sla_no_team, keeping(state.teams, team, T.sla_team_gone), team);
    form.elements.default.checked = policy ? policy.default : state.policies.length === 0;
    $("policy-targets").replaceChildren(...targetRows(policy ? policy.targets : {}));
    $("policy-warn").replaceChildren(
      h("span", { class: "sla-warn-label", id: "warn-label" }, T.sla_warn_before),
      durationBox("warn_before_minutes", T.sla_warn_before, policy && policy.warn_before_minutes ? policy.warn_before_minutes : null),
      h("p", { class: "hint" }, T.sla_warn_hint));
    fillActions(actions);
    showError(null);
    dialog.showModal();
    form.elements.name.focus();
  }

  // The page's first lists (calendars, teams, users, policies): the form draws its menus and
  // defaults from them once, so a press before they arrive waits for them (else no teams to
  // choose, no calendar, and "default" ticked as if no policy existed).
  const listed = load();
  $("new-policy").addEventListener("click", async () => {
    await listed.catch(() => {});
    open(null);
  });
  for (const button of dialog.querySelectorAll("[data-close]")) button.addEventListener("click", () => dialog.close());

  // A refusal in the page's language where Kith knows the field's rule better than the
  // server's generic wording (a target of 0 minutes, or over a year).
  function reworded(each) {
    const field = String(each.field || "");
    if (/^(targets\.\w+\.\w+|warn_before_minutes)$/.test(field)) {
      if (each.reason === "greater_than") return T.sla_target_too_short;
      if (each.reason === "less_than_equal") return T.sla_too_long;
    }
    return each.message;
  }

  // Every refused field at its control, the rest in the form's error line.
  function showError(error) {
    showRefusals(form, error, reworded);
  }

  // The form as the API takes it: a priority with no target is left out (nothing measured);
  // boxes that are no whole numbers are refused here, at their place, all at once.
  function policyBody() {
    const refused = [];
    const read = (path) => {
      const got = minutesOf(form.querySelector(`[data-field="${path}"]`));
      if (got.refused) refused.push({ field: path, message: got.refused });
      return got.value;
    };
    const targets = {};
    for (const p of PRIORITIES) {
      const row = {};
      for (const m of METRICS) {
        const minutes = read(`targets.${p}.${m}`);
        if (minutes !== null && minutes !== undefined) row[m] = minutes;
      }
      if (Object.keys(row).length) targets[p] = row;
    }
    const warn = read("warn_before_minutes");
    const actions = breachActions(refused);
    return {
      refused,
      body: {
        name: form.elements.name.value.trim(),
        calendar_id: form.elements.calendar_id.value || null,
        team_id: form.elements.team_id.value || null,
        default: form.elements.default.checked,
        targets,
        warn_before_minutes: warn || 0,
        breach_actions: actions,
      },
    };
  }

  once(form, async () => {
    showError(null);
    say("");
    try {
      const { body, refused } = policyBody();
      if (refused.length) throw Object.assign(new Error(refused[0].message), { fields: refused });
      const editing = state.editing;
      const saved = editing
        ? await api("PUT", `/sla/policies/${encodeURIComponent(editing.id)}`, body)
        : await api("POST", "/sla/policies", body);
      dialog.close();
      await load();
      say(saved.recompute_job_id ? T.sla_saved_recompute : T.sla_saved);
      (editButton(saved.name) || $("new-policy")).focus();
    } catch (error) {
      showError(error);
    }
  });

  // `/app/admin/sla#policy-<id>` (the Business hours page links each policy so): that row,
  // its Edit button focused.
  function follow() {
    const row = window.location.hash.startsWith("#policy-") && document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
    if (!row) return;
    row.classList.add("sla-target");
    row.scrollIntoView({ block: "center" });
    row.querySelector("button").focus();
  }

  listed.then(follow).catch((error) => say(error.message || T.error, { error: true }));
})();

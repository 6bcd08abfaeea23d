// Kith settings: SLA policies (targets per priority, the calendar they count in, which tickets
// they apply to, what a breach does), over /app/api/sla/policies (admins). Durations are typed
// as hours and minutes and sent as the API's minutes. Every stored string reaches the page
// through textContent (KithDom.h); nothing is parsed as HTML.
"use strict";

(() => {
  const { T, api, answer, h, say, confirmed, showRefusals, once, fill } = window.KithDom;
  const $ = (id) => document.getElementById(id);
  const PRIORITIES = ["low", "normal", "high", "urgent"];
  const METRICS = ["first_reply", "next_reply", "resolution"];
  const state = { policies: [], calendars: [], teams: [], editing: null };

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

  const teamName = (id) => (state.teams.find((t) => t.id === id) || { name: id }).name;

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

  function policyRow(policy) {
    return h("tr", { id: `policy-${policy.id}` },
      h("th", { scope: "row" }, policy.name),
      h("td", {}, appliesTo(policy)),
      h("td", {}, calendarCell(policy)),
      h("td", {}, targetsCell(policy)),
      h("td", { class: "actions" },
        h("button", { type: "button", "aria-label": `${T.edit}${T.colon}${policy.name}`, onclick: () => open(policy) }, T.edit),
        h("button", { type: "button", class: "danger", "aria-label": `${T.delete}${T.colon}${policy.name}`, onclick: (e) => remove(policy, e.currentTarget) }, T.delete)));
  }

  async function load() {
    const [policies, calendars, teams] = await Promise.all(
      [api("GET", "/sla/policies"), api("GET", "/sla/calendars"), api("GET", "/teams")]);
    Object.assign(state, { policies, calendars, teams: teams.items });
    $("policies").replaceChildren(...policies.map(policyRow));
    $("no-policies").hidden = policies.length > 0;
  }

  const editButton = (name) =>
    document.querySelector(`#policies button[aria-label="${CSS.escape(`${T.edit}${T.colon}${name}`)}"]`);

  async function remove(policy, button) {
    if (policy.default) {  // the server refuses too: every ticket would lose its SLA
      say(fill(T.sla_delete_default, { name: policy.name }));
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
      say(error.reason === "default_policy" ? fill(T.sla_delete_default, { name: policy.name }) : error.message);
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

  function targetRows(targets) {
    return PRIORITIES.map((p) => h("tr", {},
      h("th", { scope: "row" }, T["ticket_priority_" + p]),
      METRICS.map((m) => h("td", {}, durationBox(`targets.${p}.${m}`,
        `${T["ticket_priority_" + p]} · ${T["ticket_sla_" + m]}`, (targets[p] || {})[m])))));
  }

  // The breach actions this form does not edit (reassignments), sent back as they were.
  function keptActions(actions) {
    return actions.filter((a) => a.type !== "raise_priority" && a.type !== "notify_team");
  }

  function open(policy) {
    state.editing = policy;
    const actions = policy ? policy.breach_actions : [{ type: "raise_priority" }];
    $("policy-heading").textContent = policy ? `${T.sla_edit}${T.colon}${policy.name}` : T.sla_new;
    form.elements.name.value = policy ? policy.name : "";
    const known = policy && policy.calendar_id && !state.calendars.some((c) => c.id === policy.calendar_id)
      ? [{ id: policy.calendar_id, name: T.sla_calendar_gone }] : [];
    options(form.elements.calendar_id, T.sla_around_the_clock, [...state.calendars, ...known], policy ? policy.calendar_id : (state.calendars[0] || {}).id);
    options(form.elements.team_id, T.sla_no_team, state.teams, policy && policy.team_id);
    form.elements.default.checked = policy ? policy.default : state.policies.length === 0;
    $("policy-targets").replaceChildren(...targetRows(policy ? policy.targets : {}));
    $("policy-warn").replaceChildren(
      h("span", { class: "sla-warn-label", id: "warn-label" }, T.sla_warn_before),
      durationBox("warn_before_minutes", T.sla_warn_before, policy && policy.warn_before_minutes ? policy.warn_before_minutes : null),
      h("p", { class: "hint" }, T.sla_warn_hint));
    form.elements.raise.checked = actions.some((a) => a.type === "raise_priority");
    const notify = actions.find((a) => a.type === "notify_team");
    options(form.elements.notify, T.sla_notify_nobody, state.teams, notify && notify.team_id);
    const kept = keptActions(actions).length;
    $("policy-kept").hidden = !kept;
    $("policy-kept").textContent = kept ? fill(T.sla_kept_actions, { n: kept }) : "";
    showError(null);
    dialog.showModal();
    form.elements.name.focus();
  }

  $("new-policy").addEventListener("click", () => open(null));
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
    const before = state.editing ? state.editing.breach_actions : [];
    const raise = before.filter((a) => a.type === "raise_priority");
    const team = form.elements.notify.value;
    const notify = before.filter((a) => a.type === "notify_team" && a.team_id === team);
    const actions = [
      ...(form.elements.raise.checked ? (raise.length ? raise : [{ type: "raise_priority" }]) : []),
      ...(team ? (notify.length ? notify : [{ type: "notify_team", team_id: team }]) : []),
      ...keptActions(before),
    ];
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

  load().then(follow).catch((error) => say(error.message || T.error));
})();

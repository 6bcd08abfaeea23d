// Kith settings: business hours (the SLA calendars, with their holidays, and the policies that
// use each) and the courtesy quiet hours, over /app/api/sla and /app/api/courtesy (admins).
// Every stored string reaches the page through textContent (KithDom.h); nothing is parsed as HTML.
"use strict";

(() => {
  const { T, api, answer, h, say, confirmed, showRefusals, once, fill } = window.KithDom;
  const $ = (id) => document.getElementById(id);
  const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  const state = { calendars: [], policies: [], editing: null };

  // A refusal in the page's language where Kith knows the field's rule better than the
  // server's generic wording (a time, a zone, a date).
  function reworded(each) {
    const field = String(each.field || "");
    if (/^hours\.\w+\.\d+\.[01]$/.test(field) || /^quiet_(start|end)$/.test(field)) return T.hours_time_format;
    if (field === "zone" || field === "timezone") return T.hours_zone_unknown;
    if (/^holidays\.\d+$/.test(field)) return T.hours_date_format;
    return each.message;
  }

  // Every refused field at its control (`KithDom.showRefusals`); a rule about the whole
  // calendar goes in the form's error line, worded here.
  function showError(form, error) {
    showRefusals(form, error, reworded, wholeRule);
  }

  function wholeRule(message) {
    if (/at least one weekday/.test(message)) return T.hours_need_hours;
    if (/at most 8 intervals/.test(message)) return T.hours_too_many;
    return message;
  }

  function submit(form, handler) {
    once(form, async () => {
      showError(form, null);
      say("");
      try {
        await handler(new FormData(form));
      } catch (error) {
        showError(form, error);
      }
    });
  }

  // ---- the calendars' table ----------------------------------------------------------------

  function usersOf(calendar) {
    return state.policies.filter((p) => p.calendar_id === calendar.id);
  }

  function weekText(calendar) {
    if (calendar.always) return T.hours_always_short;
    const open = DAYS.filter((d) => (calendar.hours[d] || []).length);
    if (!open.length) return T.hours_closed;
    return open.map((d) => `${T["hours_short_" + d]} ${calendar.hours[d].map(([a, b]) => `${a}–${b}`).join(", ")}`);
  }

  function calendarRow(calendar) {
    const users = usersOf(calendar);
    const week = weekText(calendar);
    return h("tr", {},
      h("th", { scope: "row" }, calendar.name),
      h("td", {}, calendar.zone),
      h("td", {}, Array.isArray(week) ? h("ul", { class: "plain hours-week-list" }, week.map((line) => h("li", {}, line))) : week),
      h("td", {}, calendar.holidays.length || "—"),
      // Each policy a link to its row on Settings → SLA policies, where it is edited.
      h("td", {}, users.length
        ? users.flatMap((p, n) => [n ? ", " : "", h("a", { href: `/app/admin/sla#policy-${encodeURIComponent(p.id)}` }, p.name)])
        : h("span", { class: "hint" }, T.hours_unused)),
      h("td", { class: "actions" },
        h("button", { type: "button", "aria-label": `${T.edit}${T.colon}${calendar.name}`, onclick: () => edit(calendar) }, T.edit),
        h("button", { type: "button", class: "danger", "aria-label": `${T.delete}${T.colon}${calendar.name}`, onclick: (e) => remove(calendar, e.currentTarget) }, T.delete)));
  }

  async function load() {
    const [calendars, policies] = await Promise.all([api("GET", "/sla/calendars"), api("GET", "/sla/policies")]);
    state.calendars = calendars;
    state.policies = policies;
    $("calendars").replaceChildren(...calendars.map(calendarRow));
    $("no-calendars").hidden = calendars.length > 0;
  }

  function inUse(calendar) {
    return fill(T.hours_in_use, { name: calendar.name, policies: usersOf(calendar).map((p) => p.name).join(T.list_separator) });
  }

  async function remove(calendar, button) {
    if (usersOf(calendar).length) {  // refused before asking: say why, naming the policies
      say(inUse(calendar), { error: true });
      return;
    }
    if (!(await confirmed(`${T.hours_delete_confirm} ${calendar.name}`))) return;
    try {
      await answer("DELETE", `/sla/calendars/${encodeURIComponent(calendar.id)}`);
      say(T.hours_deleted);
      await load();
      $("new-calendar").focus();
    } catch (error) {
      await load();  // a policy took it meanwhile: name it
      say(error.status === 409 ? inUse(calendar) : error.message, { error: true });
      if (button.isConnected) button.focus();
    }
  }

  // ---- the calendar's form -----------------------------------------------------------------

  const dialog = $("calendar");
  const form = dialog.querySelector("form");
  let holidayRows = 0;

  function errorLine(id) {
    return h("p", { class: "field-error", id });
  }

  function intervalRow(day, span) {
    const row = h("div", { class: "hours-interval" });
    const opens = h("input", { type: "text", inputmode: "numeric", maxlength: 5, placeholder: "09:00", value: span[0], autocomplete: "off" });
    const closes = h("input", { type: "text", inputmode: "numeric", maxlength: 5, placeholder: "18:00", value: span[1], autocomplete: "off" });
    const drop = h("button", { type: "button", class: "danger" }, T.hours_remove_interval);
    drop.addEventListener("click", () => {
      const list = row.parentElement;
      row.remove();
      renumber(day);
      (list.querySelector("input") || $(`add-${day}`)).focus();
    });
    row.append(
      h("span", { class: "hours-slot" }, h("label", {}, T.hours_opens, " ", opens), errorLine("")),
      h("span", { class: "hours-slot" }, h("label", {}, T.hours_closes, " ", closes), errorLine("")),
      drop);
    return row;
  }

  // The API's path on each control (`hours.mon.1.0`), so that a refusal lands on its box.
  function renumber(day) {
    const rows = [...$(`day-${day}`).querySelectorAll(".hours-interval")];
    rows.forEach((row, n) => {
      row.querySelectorAll(".hours-slot").forEach((slot, side) => {
        const path = `hours.${day}.${n}.${side}`;
        slot.dataset.field = path;
        const input = slot.querySelector("input");
        const error = slot.querySelector(".field-error");
        error.id = `cal-${path.replaceAll(".", "-")}-error`;
        input.setAttribute("aria-describedby", error.id);
        input.setAttribute("aria-label", `${T["hours_day_" + day]} ${side ? T.hours_closes : T.hours_opens} ${n + 1}`);
      });
      row.querySelector("button").setAttribute("aria-label", `${T.hours_remove_interval}${T.colon}${T["hours_day_" + day]} ${n + 1}`);
    });
  }

  function dayBox(day, spans) {
    const list = h("div", { id: `day-${day}`, class: "hours-rows" }, spans.map((span) => intervalRow(day, span)));
    const add = h("button", { type: "button", id: `add-${day}`, "aria-label": `${T.hours_add_interval}${T.colon}${T["hours_day_" + day]}` }, T.hours_add_interval);
    add.addEventListener("click", () => {
      const row = intervalRow(day, ["", ""]);
      list.append(row);
      renumber(day);
      row.querySelector("input").focus();
    });
    const box = h("div", { class: "hours-day", role: "group", "aria-labelledby": `day-${day}-name`, "data-field": `hours.${day}` },
      h("span", { class: "hours-day-name", id: `day-${day}-name` }, T["hours_day_" + day]),
      list, h("div", {}, add));
    return box;
  }

  function holidayRow(day, name) {
    holidayRows += 1;
    const key = holidayRows;
    const date = h("input", { type: "date", value: day || "", "aria-describedby": `hol-${key}-date-error` });
    const label = h("input", { type: "text", value: name || "", maxlength: 100, autocomplete: "off", "aria-describedby": `hol-${key}-name-error` });
    const drop = h("button", { type: "button", class: "danger" }, T.hours_remove_holiday);
    const row = h("div", { class: "hours-holiday" },
      h("span", { class: "hours-slot", dataset: { part: "date" } }, h("label", {}, T.hours_holiday_date, " ", date), errorLine(`hol-${key}-date-error`)),
      h("span", { class: "hours-slot", dataset: { part: "name" } }, h("label", {}, T.hours_holiday_name, " ", label), errorLine(`hol-${key}-name-error`)),
      drop);
    drop.addEventListener("click", () => {
      row.remove();
      const next = $("calendar-holidays").querySelector("input");
      (next || $("add-holiday")).focus();
    });
    drop.setAttribute("aria-label", `${T.hours_remove_holiday}${T.colon}${day || ""} ${name || ""}`.trim());
    date.addEventListener("change", () => drop.setAttribute("aria-label", `${T.hours_remove_holiday}${T.colon}${date.value}`));
    return row;
  }

  $("add-holiday").addEventListener("click", () => {
    const row = holidayRow("", "");
    $("calendar-holidays").append(row);
    row.querySelector("input").focus();
  });

  function open(calendar) {
    state.editing = calendar;
    $("calendar-heading").textContent = calendar ? `${T.hours_edit}${T.colon}${calendar.name}` : T.hours_new;
    form.elements.name.value = calendar ? calendar.name : "";
    form.elements.zone.value = calendar ? calendar.zone : Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    form.elements.always.checked = Boolean(calendar && calendar.always);
    const hours = calendar ? calendar.hours : Object.fromEntries(DAYS.slice(0, 5).map((d) => [d, [["09:00", "18:00"]]]));
    $("calendar-days").replaceChildren(...DAYS.map((d) => dayBox(d, hours[d] || [])));
    DAYS.forEach(renumber);
    const names = (calendar && calendar.holiday_names) || {};
    $("calendar-holidays").replaceChildren(...(calendar ? calendar.holidays : []).map((d) => holidayRow(d, names[d])));
    showError(form, null);
    dialog.showModal();
    form.elements.name.focus();
  }

  function edit(calendar) {
    open(calendar);
  }

  $("new-calendar").addEventListener("click", () => open(null));
  for (const button of dialog.querySelectorAll("[data-close]")) button.addEventListener("click", () => dialog.close());

  // The form as the API takes it; each holiday's controls get their path (`holidays.2`,
  // `holiday_names.2026-10-01`). A date given twice is refused here, at its row.
  function calendarBody() {
    const hours = {};
    for (const day of DAYS) {
      const spans = [...$(`day-${day}`).querySelectorAll(".hours-interval")].map((row) =>
        [...row.querySelectorAll("input")].map((input) => input.value.trim()));
      if (spans.length) hours[day] = spans;
    }
    const holidays = [];
    const names = {};
    const twice = [];
    [...$("calendar-holidays").querySelectorAll(".hours-holiday")].forEach((row, n) => {
      const date = row.querySelector("[data-part=date]");
      const name = row.querySelector("[data-part=name]");
      const day = date.querySelector("input").value;
      const label = name.querySelector("input").value.trim();
      date.dataset.field = `holidays.${n}`;
      name.dataset.field = `holiday_names.${day || "?" + n}`;
      if (day && holidays.includes(day)) twice.push({ field: `holidays.${n}`, message: T.hours_date_twice });
      holidays.push(day || null);
      if (day && label) names[day] = label;
    });
    return {
      body: { name: form.elements.name.value.trim(), zone: form.elements.zone.value.trim(), always: form.elements.always.checked, hours, holidays, holiday_names: names },
      twice,
    };
  }

  submit(form, async () => {
    const { body, twice } = calendarBody();
    if (twice.length) throw Object.assign(new Error(twice[0].message), { fields: twice });
    const editing = state.editing;
    const saved = editing
      ? await api("PUT", `/sla/calendars/${encodeURIComponent(editing.id)}`, body)
      : await api("POST", "/sla/calendars", body);
    dialog.close();
    await load();
    say(saved.recompute_job_id ? T.hours_saved_recompute : T.hours_saved);
    const again = document.querySelector(`#calendars button[aria-label="${CSS.escape(`${T.edit}${T.colon}${saved.name}`)}"]`);
    (again || $("new-calendar")).focus();
  });

  // ---- quiet hours ---------------------------------------------------------------------------

  const quiet = $("quiet");
  const hhmm = (value) => String(value || "").slice(0, 5);

  function showQuiet(settings) {
    quiet.elements.quiet_start.value = hhmm(settings.quiet_start);
    quiet.elements.quiet_end.value = hhmm(settings.quiet_end);
    quiet.elements.timezone.value = settings.timezone;
    quiet.elements.daily_cap.value = settings.daily_cap === null ? "" : settings.daily_cap;
  }

  submit(quiet, async (data) => {
    const cap = String(data.get("daily_cap")).trim();
    const number = quiet.elements.daily_cap;
    const saved = await api("PATCH", "/courtesy", {
      quiet_start: String(data.get("quiet_start")).trim(),
      quiet_end: String(data.get("quiet_end")).trim(),
      timezone: String(data.get("timezone")).trim(),
      // A number input holding letters reads as "": sent as such, refused at its field.
      daily_cap: cap ? Number(cap) : (number.validity.badInput ? "" : null),
    });
    showQuiet(saved);
    say(T.hours_quiet_saved);
  });

  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  $("hours-zones").replaceChildren(...["UTC", ...zones].map((z) => h("option", { value: z })));

  // The stored quiet hours fill their form once they arrive; until then it waits, disabled
  // (typed into earlier, its boxes were overwritten when they came; saved, it sent blanks).
  const quietControls = [...quiet.elements];
  for (const control of quietControls) control.disabled = true;
  const stored = api("GET", "/courtesy").then((settings) => {
    showQuiet(settings);
    for (const control of quietControls) control.disabled = false;
  });

  Promise.all([load(), stored]).catch((error) => say(error.message || T.error, { error: true }));
})();

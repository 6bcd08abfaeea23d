// One ticket: its controls (status along the allowed moves, priority, assignee, team, tags),
// SLA clocks ticking on Kith's clock, satisfaction and the timeline with notes. The SLA,
// satisfaction and timeline appear when the server answers them, and stay out of the way
// when it does not.
"use strict";

(() => {
  const { T, api, h, say, said, fill, unnamed, markFields } = window.KithDom;
  const { status, priority, when, refusal, span } = window.KithTickets;
  const body = document.body;
  const id = body.dataset.ticketId;
  if (!id) return;
  const canWrite = body.dataset.canWrite === "true";
  const shapes = JSON.parse(document.getElementById("ticket-shapes").textContent);
  const $ = (name) => document.getElementById(name);
  const path = `/tickets/${encodeURIComponent(id)}`;
  const METRICS = ["first_reply", "next_reply", "resolution"];
  const state = {
    ticket: null, users: [], teams: [], clock: { base: Date.now(), since: 0, speed: 1 }, cursor: null,
    customer: null,  // the ticket's customer as the team calls them: { id, shown }, once read
  };

  const kithNow = () => state.clock.base + (performance.now() - state.clock.since) * state.clock.speed;

  // ---- controls --------------------------------------------------------------------------

  function options(select, items, value) {
    select.replaceChildren(...items.map(([v, label]) => h("option", { value: v }, label)));
    select.value = value;
  }

  function render(ticket) {
    state.ticket = ticket;
    $("ticket-subject").textContent = ticket.subject;
    $("ticket-subject").parentElement.title = ticket.subject;
    const moves = shapes.moves[ticket.status] || [];
    // In the order work flows (the board's), the current status in its place.
    const choices = shapes.statuses.filter((s) => s === ticket.status || moves.includes(s));
    options($("ticket-status"), choices.map((s) => [s, status(s)]), ticket.status);
    $("ticket-priority").value = ticket.priority;
    // Only who can answer it (an enabled agent or admin); whoever has it now stays listed.
    const people = state.users.filter((u) => u.can_answer || u.id === ticket.assignee_id);
    options($("ticket-assignee"),
      [["", T.tickets_unassigned], ...people.map((u) => [u.id, u.name || u.email])], ticket.assignee_id || "");
    options($("ticket-team"),
      [["", T.tickets_no_team], ...state.teams.map((t) => [t.id, t.name])], ticket.team_id || "");
    if (document.activeElement !== $("ticket-tags")) $("ticket-tags").value = ticket.tags.join(", ");
    renderSla(ticket.sla);
    renderCsat(ticket.csat);
    showHeld();
  }

  // ---- status, priority, assignee and team, held when arrowed -----------------------------
  // A closed select steps its value with the arrow keys and fires `change` at each step: saved
  // at each, ArrowDown twice would move a new ticket to Open and then to Pending, and a step
  // onto Solved would send the customer the survey at once. So a value reached by the keyboard
  // (arrows, Page/Home/End, typing its name) is held, shown as not saved, until Enter or Apply
  // (Escape puts the saved one back), as a desk's "Submit" does; one picked with the pointer,
  // or chosen in the opened list, is saved at once, as before.
  const SELECTS = {  // field -> its menu; "" in a menu is no one (no team): null in a change
    status: "ticket-status", priority: "ticket-priority",
    assignee_id: "ticket-assignee", team_id: "ticket-team",
  };
  const HELD = Object.keys(SELECTS);
  const saved = (field) => state.ticket[field] || "";
  const patchOf = (values) => Object.fromEntries(
    Object.entries(values).map(([field, value]) => [field, value || null]));
  const held = {};  // field -> the value shown but not saved
  const keyed = new Set();  // fields whose next `change` comes from a stepping key

  function showHeld() {
    for (const field of HELD) {
      const select = $(SELECTS[field]);
      if (!(field in held)) {
        select.removeAttribute("aria-describedby");
        continue;
      }
      // A save of another field re-drew the menus: the held value stays shown while it is a move.
      if ([...select.options].some((o) => o.value === held[field])) select.value = held[field];
      else delete held[field];
      if (field in held) select.setAttribute("aria-describedby", "fields-held-hint");
    }
    const box = $("fields-held");
    if (box) box.hidden = Object.keys(held).length === 0;
  }

  function applyHeld() {
    const patch = { ...held };
    for (const field of HELD) delete held[field];
    showHeld();
    if (Object.keys(patch).length) change(patchOf(patch));
  }

  function holdWhenKeyed(field) {
    const select = $(SELECTS[field]);
    select.addEventListener("keydown", (e) => {
      if ((e.key === "Enter" || e.key === "Escape") && field in held) {
        e.preventDefault();  // not the form's submit (Save tags)
        if (e.key === "Escape") {
          delete held[field];
          select.value = saved(field);
          showHeld();
        } else applyHeld();
        return;
      }
      if (e.altKey || e.ctrlKey || e.metaKey) return;  // Alt+ArrowDown opens the list
      if (/^(Arrow|Page)|^(Home|End)$/.test(e.key) || (e.key.length === 1 && e.key !== " ")) keyed.add(field);
    });
    select.addEventListener("pointerdown", () => keyed.delete(field));
    select.addEventListener("change", () => {
      const stepped = keyed.delete(field);
      if (select.value === saved(field)) {
        delete held[field];
        showHeld();
      } else if (stepped) {
        const first = Object.keys(held).length === 0;
        held[field] = select.value;
        showHeld();
        if (first) say(T.ticket_held);
      } else {
        delete held[field];
        change(patchOf({ [field]: select.value }));
      }
    });
  }

  // Every field the server refused is marked at its control, with its words (a refused
  // move worded with the allowed ones); what no control holds goes under the form.
  function markRefusal(form, error, slot) {
    const fields = (error.fields || []).map((f) => ({ ...f, message: refusal(f, state.ticket.number) }));
    const unplaced = markFields(form, fields.length ? { fields } : null);
    const said = fields.length ? fields.map((f) => f.message) : [refusal(error, state.ticket.number)];
    slot.textContent = (fields.length ? unplaced.map((f) => f.message) : said).join(" ");
    say(said.join(" "));
  }

  async function change(patch) {
    $("controls-error").textContent = "";
    $("controls-saved").textContent = "";
    markFields($("ticket-controls"), null);
    say(""); // until the server answers: an earlier "Saved." is not this change's
    try {
      render(await api("PATCH", path, patch));
      say(T.ticket_saved);
      $("controls-saved").textContent = T.ticket_saved;
      if (state.timeline) await loadTimeline();
    } catch (error) {
      markRefusal($("ticket-controls"), error, $("controls-error"));
      render(await api("GET", path));
    }
  }

  // ---- SLA clocks ------------------------------------------------------------------------

  function clockText(sla, metric) {
    const due = sla[`${metric}_due_at`];
    const breached = (sla.breached || []).includes(metric);
    const parts = [];
    if (sla.paused) parts.push(T.ticket_sla_paused);
    else if (due) {
      const left = Date.parse(due) - kithNow();
      parts.push(left >= 0 ? fill(T.ticket_sla_left, { time: span(left) }) : fill(T.ticket_sla_overdue, { time: span(left) }));
    }
    if (breached) parts.push(T.ticket_sla_breached);
    return { text: parts.join(" · "), breached, overdue: !sla.paused && due && Date.parse(due) < kithNow() };
  }

  function renderSla(sla) {
    const present = sla && typeof sla === "object";
    $("sla-none").hidden = Boolean(present);
    $("sla-policy").textContent = present && sla.policy ? fill(T.ticket_sla_policy, { name: sla.policy.name || sla.policy.id }) : "";
    if (!present) {
      $("sla-clocks").replaceChildren();
      return;
    }
    const shown = METRICS.filter((m) => sla[`${m}_due_at`] || (sla.breached || []).includes(m));
    $("sla-clocks").replaceChildren(...shown.map((metric) => {
      const { text, breached, overdue } = clockText(sla, metric);
      return h("li", {
        class: ["clock", breached ? "breached" : "", overdue ? "overdue" : "", sla.paused ? "paused" : ""].join(" ").trim(),
        dataset: { metric },
      }, h("span", { class: "clock-name" }, T["ticket_sla_" + metric]), " ",
      h("span", { class: "clock-state" }, text));
    }));
    if (sla.paused) $("sla-clocks").append(h("li", { class: "hint" }, T.ticket_sla_paused_note));
    $("sla-none").hidden = shown.length > 0;
  }

  function tick() {
    const sla = state.ticket && state.ticket.sla;
    if (!sla || sla.paused) return;
    for (const item of document.querySelectorAll("#sla-clocks .clock")) {
      const { text, breached, overdue } = clockText(sla, item.dataset.metric);
      item.querySelector(".clock-state").textContent = text;
      item.classList.toggle("overdue", Boolean(overdue));
      item.classList.toggle("breached", breached);
    }
  }

  // ---- satisfaction ----------------------------------------------------------------------

  // Why a survey was never asked, in words (an unknown reason as the server says it).
  function skipReason(skipped) {
    if (skipped === true) return "—";
    return T["ticket_csat_skip_" + skipped] || skipped;
  }

  function renderCsat(csat) {
    const present = csat && typeof csat === "object";
    $("csat").hidden = !present;
    if (!present) return;
    const parts = [];
    if (csat.score !== null && csat.score !== undefined) {
      parts.push(h("p", { class: "score" },
        h("span", { class: "stars", "aria-hidden": "true" }, "★".repeat(csat.score) + "☆".repeat(Math.max(0, 5 - csat.score))),
        " ", fill(T.ticket_csat_score, { score: csat.score }),
        csat.answered_at ? h("time", { datetime: csat.answered_at }, ` · ${when(csat.answered_at)}`) : null));
      if (csat.reason) parts.push(h("p", {}, `${T.ticket_csat_reason}${T.colon}`, h("q", {}, csat.reason)));
    } else if (csat.skipped) {
      parts.push(h("p", { class: "hint" }, fill(T.ticket_csat_skipped, { reason: skipReason(csat.skipped) })));
    } else if (csat.asked_at) {
      parts.push(h("p", { class: "hint" }, fill(T.ticket_csat_asked, { when: when(csat.asked_at) })));
    }
    $("csat-body").replaceChildren(...parts);
    $("csat").hidden = parts.length === 0;
  }

  // ---- timeline --------------------------------------------------------------------------

  // A customer without a name goes by the end of their id, as in the inbox and the contacts
  // ("Customer 7F3A"); the ticket's own customer by the name the team calls them (their
  // email, their phone) once read, as the inbox does.
  const customerOf = (author, data) =>
    (data && data.customer_id) || author.id || (state.ticket && state.ticket.customer_id) || "";
  const customerShown = (id) => (state.customer && state.customer.id === id && state.customer.shown) || unnamed(id);

  function authorName(author, data) {
    if (!author) return T.ticket_someone;
    if (author.kind === "system") {
      // A system author's name is the feature's code ("orders", "Ticket rules"): worded in
      // the page's language where Kith knows it.
      if (!author.name || author.name === "system") return T.ticket_system;
      return T["ticket_author_" + author.name.toLowerCase().replace(/\s+/g, "_")] || author.name;
    }
    if (author.kind === "customer") return author.name || customerShown(customerOf(author, data));
    if (author.kind === "bot") return author.name || T.bot;
    return author.name || T.ticket_someone;
  }

  // A changed field's value in words: a status or priority as the page names it, a person or
  // a team by name, tags listed, nothing as "none".
  function valueText(field, value) {
    if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) {
      return T.ticket_value_none;
    }
    if (field === "status") return status(value);
    if (field === "priority") return priority(value);
    if (field === "assignee_id") {
      const user = state.users.find((u) => u.id === value);
      return user ? user.name || user.email : value;
    }
    if (field === "team_id") {
      const team = state.teams.find((t) => t.id === value);
      return team ? team.name : value;
    }
    if (Array.isArray(value)) return value.join(", ");
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  // One line per change, from → to (a description, too long for a line, is only named).
  function changeLines(changes) {
    return Object.entries(changes).map(([field, change]) => {
      const name = T["ticket_field_" + field] || field;
      const known = change && typeof change === "object" && "to" in change && field !== "description";
      if (!known) return fill(T.ticket_event_change_set, { field: name });
      return fill(T.ticket_event_change, {
        field: name, from: valueText(field, change.from), to: valueText(field, change.to),
      });
    });
  }

  function eventLines(item) {
    const data = item.data || {};
    if (item.type === "ticket.updated" && data.changes && Object.keys(data.changes).length) {
      return changeLines(data.changes);
    }
    const template = T["ticket_event_" + item.type];
    if (!template) return [item.text || item.type];
    const fields = Object.keys(data.changes || {}).map((f) => T["ticket_field_" + f] || f);
    const text = fill(template, {
      from: status(data.from), to: status(data.to), fields: fields.join(", "), score: data.score,
      // An SLA warning or breach names its metric and when it was due.
      metric: T["ticket_sla_" + data.metric] || data.metric, due: data.due_at ? when(data.due_at) : "",
      // A merge names the other ticket by number.
      into: data.into_number, source: data.from_number,
    });
    return data.reason ? [text, fill(T.ticket_event_csat_reason, { reason: data.reason })] : [text];
  }

  // A private message of a conversation is an internal note there (the customer never saw
  // it): shown as a note, not as a reply. A note of Kith's own (a bot's hand-off) is worded in
  // the page's language from its `wording`, as the inbox words it.
  function entry(item) {
    const data = item.data || {};
    const known = ["event", "note", "message"].includes(item.kind) ? item.kind : "event";
    const kind = known === "message" && data.private ? "note" : known;
    const author = item.author;
    // An unnamed customer's name is drawn again once the ticket's customer is read.
    const nameless = author && author.kind === "customer" && !author.name;
    const head = [h("span", { class: "author", dataset: nameless ? { customer: customerOf(author, data) } : null },
      authorName(author, data))];
    if (kind !== "event") head.push(h("span", { class: "kind" }, ` · ${T["ticket_kind_" + kind]}`));
    head.push(h("time", { datetime: item.at }, when(item.at)));
    const text = known === "message" ? said({ text: item.text || "", wording: data.wording }) : item.text || "";
    const classes = ["entry", "entry-" + kind];
    if (known === "message" && kind === "note") classes.push("entry-private");
    if (author && author.kind === "customer") classes.push("from-customer");
    return h("li", { class: classes.join(" ") },
      h("div", { class: "meta" }, head),
      ...(kind === "event" ? eventLines(item).map((line) => h("p", { class: "event" }, line))
        : [h("p", { class: "text" }, text || "")]));
  }

  async function loadTimeline(more = false) {
    const query = more && state.cursor ? `?limit=50&cursor=${encodeURIComponent(state.cursor)}` : "?limit=50";
    let page;
    try {
      page = await api("GET", `${path}/timeline${query}`);
    } catch (_) {
      return; // no timeline here yet: the section stays hidden
    }
    state.timeline = true;
    $("timeline-section").hidden = false;
    const list = $("timeline");
    if (!more) list.replaceChildren();
    list.append(...(page.items || []).map(entry));
    state.cursor = page.next_cursor || null;
    $("timeline-more").hidden = !state.cursor;
    $("timeline-empty").hidden = list.children.length > 0;
  }

  // ---- customer and conversations --------------------------------------------------------

  async function loadCustomer(ticket) {
    let profile;
    try {
      profile = await api("GET", `/contacts/${encodeURIComponent(ticket.customer_id)}`);
    } catch (_) {
      return; // another team's customer: the link ("Customer 7F3A") and ids stay as they are
    }
    // The name the team calls them by (name, else email, then phone, as the inbox does).
    const shown = profile.customer.shown_name;
    if (shown) $("customer-link").textContent = shown;
    state.customer = { id: ticket.customer_id, shown };
    for (const name of document.querySelectorAll("#timeline .author[data-customer]")) {
      name.textContent = customerShown(name.dataset.customer);
    }
    const known = Object.fromEntries(profile.conversations.map((c) => [c.id, c]));
    for (const link of document.querySelectorAll("#conversations a[data-conversation]")) {
      const c = known[link.dataset.conversation];
      if (c) {
        link.textContent = fill(T.ticket_in_inbox, {
          channel: c.channel_name || c.channel_id, status: T["status_" + c.status] || c.status,
        });
      }
    }
  }

  // ---- wiring ----------------------------------------------------------------------------

  function wire() {
    for (const field of HELD) holdWhenKeyed(field);
    $("apply-fields")?.addEventListener("click", applyHeld);
    $("ticket-controls").addEventListener("submit", (e) => {
      e.preventDefault();
      if (!canWrite) return;
      change({ tags: $("ticket-tags").value.split(",").map((s) => s.trim()).filter(Boolean) });
    });
    $("timeline-more").addEventListener("click", () => loadTimeline(true));
    // A reply from the page's conversation box (ticket_reply.js): its timeline entry, and the
    // clocks a first reply stops.
    document.addEventListener("kith:ticket-replied", () => {
      refresh().then(() => state.timeline && loadTimeline()).catch(() => {});
    });
    const note = $("note-form");
    if (note) {
      window.KithDom.once(note, async () => {  // a double Enter adds one note
        $("note-error").textContent = "";
        markFields(note, null);
        try {
          await api("POST", `${path}/notes`, { text: note.text.value });
          note.reset();
          await loadTimeline();
        } catch (error) {
          markRefusal(note, error, $("note-error"));
        }
      });
    }
  }

  async function syncClock() {
    try {
      const { now, speed } = await api("GET", "/clock");
      state.clock = { base: Date.parse(now), since: performance.now(), speed };
    } catch (_) {
      state.clock = { base: Date.now(), since: performance.now(), speed: 1 };
    }
  }

  async function refresh() {
    const editing = document.activeElement && document.activeElement.closest("#ticket-controls, #note-form");
    if (editing) return;
    render(await api("GET", path));
  }

  async function start() {
    wire();
    const [ticket, users, teams] = await Promise.all([
      api("GET", path), api("GET", "/users"), api("GET", "/teams"), syncClock(),
    ]);
    state.users = users.items;
    state.teams = teams.items;
    render(ticket);
    await Promise.all([loadTimeline(), loadCustomer(ticket)]);
    setInterval(tick, 1000);
    setInterval(() => refresh().catch(() => {}), 15000);
    body.dataset.ready = "true";
  }

  start().catch((e) => say(e.message));
})();

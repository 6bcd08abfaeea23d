// One ticket: its controls (status along the allowed moves, priority, assignee, team, tags),
// SLA clocks ticking on Kith's clock, satisfaction and the timeline with notes. The SLA,
// satisfaction and timeline appear when the server answers them, and stay out of the way
// when it does not.
"use strict";

(() => {
  const { T, api, h, say, fill } = window.KithDom;
  const { status, priority, when, refusal } = window.KithTickets;
  const body = document.body;
  const id = body.dataset.ticketId;
  if (!id) return;
  const canWrite = body.dataset.canWrite === "true";
  const shapes = JSON.parse(document.getElementById("ticket-shapes").textContent);
  const $ = (name) => document.getElementById(name);
  const path = `/tickets/${encodeURIComponent(id)}`;
  const METRICS = ["first_reply", "next_reply", "resolution"];
  const state = { ticket: null, users: [], teams: [], clock: { base: Date.now(), since: 0, speed: 1 }, cursor: null };

  const kithNow = () => state.clock.base + (performance.now() - state.clock.since) * state.clock.speed;

  // ---- controls --------------------------------------------------------------------------

  function options(select, items, value) {
    select.replaceChildren(...items.map(([v, label]) => h("option", { value: v }, label)));
    select.value = value;
  }

  function render(ticket) {
    state.ticket = ticket;
    $("ticket-subject").textContent = ticket.subject;
    const moves = shapes.moves[ticket.status] || [];
    // In the order work flows (the board's), the current status in its place.
    const choices = shapes.statuses.filter((s) => s === ticket.status || moves.includes(s));
    options($("ticket-status"), choices.map((s) => [s, status(s)]), ticket.status);
    $("ticket-priority").value = ticket.priority;
    const people = state.users.filter((u) => !u.disabled || u.id === ticket.assignee_id);
    options($("ticket-assignee"),
      [["", T.tickets_unassigned], ...people.map((u) => [u.id, u.name || u.email])], ticket.assignee_id || "");
    options($("ticket-team"),
      [["", T.tickets_no_team], ...state.teams.map((t) => [t.id, t.name])], ticket.team_id || "");
    if (document.activeElement !== $("ticket-tags")) $("ticket-tags").value = ticket.tags.join(", ");
    renderSla(ticket.sla);
    renderCsat(ticket.csat);
  }

  async function change(patch) {
    $("controls-error").textContent = "";
    say(""); // until the server answers: an earlier "Saved." is not this change's
    try {
      render(await api("PATCH", path, patch));
      say(T.ticket_saved);
      if (state.timeline) await loadTimeline();
    } catch (error) {
      const text = refusal(error, state.ticket.number);
      $("controls-error").textContent = text;
      say(text);
      render(await api("GET", path));
    }
  }

  // ---- SLA clocks ------------------------------------------------------------------------

  function span(ms) {
    const minutes = Math.max(0, Math.floor(Math.abs(ms) / 60000));
    const d = Math.floor(minutes / 1440);
    const hours = Math.floor((minutes % 1440) / 60);
    const m = minutes % 60;
    if (d) return `${d} ${T.ticket_unit_d} ${hours} ${T.ticket_unit_h}`;
    if (hours) return `${hours} ${T.ticket_unit_h} ${m} ${T.ticket_unit_min}`;
    return `${m} ${T.ticket_unit_min}`;
  }

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
      if (csat.reason) parts.push(h("p", {}, `${T.ticket_csat_reason}: `, h("q", {}, csat.reason)));
    } else if (csat.skipped) {
      parts.push(h("p", { class: "hint" }, fill(T.ticket_csat_skipped, { reason: skipReason(csat.skipped) })));
    } else if (csat.asked_at) {
      parts.push(h("p", { class: "hint" }, fill(T.ticket_csat_asked, { when: when(csat.asked_at) })));
    }
    $("csat-body").replaceChildren(...parts);
    $("csat").hidden = parts.length === 0;
  }

  // ---- timeline --------------------------------------------------------------------------

  function authorName(author) {
    if (!author) return T.ticket_someone;
    if (author.kind === "system") {
      // A system author's name is the feature's code ("orders", "Ticket rules"): worded in
      // the page's language where Kith knows it.
      if (!author.name || author.name === "system") return T.ticket_system;
      return T["ticket_author_" + author.name.toLowerCase().replace(/\s+/g, "_")] || author.name;
    }
    return author.name || T.ticket_someone;
  }

  function eventText(item) {
    const data = item.data || {};
    const template = T["ticket_event_" + item.type];
    if (!template) return item.text || item.type;
    const fields = Object.keys(data.changes || {}).map((f) => T["ticket_field_" + f] || f);
    return fill(template, {
      from: status(data.from), to: status(data.to), fields: fields.join(", "),
    });
  }

  function entry(item) {
    const kind = ["event", "note", "message"].includes(item.kind) ? item.kind : "event";
    const head = [h("span", { class: "author" }, authorName(item.author))];
    if (kind !== "event") head.push(h("span", { class: "kind" }, ` · ${T["ticket_kind_" + kind]}`));
    head.push(h("time", { datetime: item.at }, when(item.at)));
    return h("li", { class: "entry entry-" + kind + (item.author && item.author.kind === "customer" ? " from-customer" : "") },
      h("div", { class: "meta" }, head),
      kind === "event" ? h("p", { class: "event" }, eventText(item)) : h("p", { class: "text" }, item.text || ""));
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
      return; // another team's customer: the link and ids stay as they are
    }
    $("customer-link").textContent = profile.customer.name || profile.customer.id;
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
    $("ticket-status").addEventListener("change", () => change({ status: $("ticket-status").value }));
    $("ticket-priority").addEventListener("change", () => change({ priority: $("ticket-priority").value }));
    $("ticket-assignee").addEventListener("change", () => change({ assignee_id: $("ticket-assignee").value || null }));
    $("ticket-team").addEventListener("change", () => change({ team_id: $("ticket-team").value || null }));
    $("ticket-controls").addEventListener("submit", (e) => {
      e.preventDefault();
      if (!canWrite) return;
      change({ tags: $("ticket-tags").value.split(",").map((s) => s.trim()).filter(Boolean) });
    });
    $("timeline-more").addEventListener("click", () => loadTimeline(true));
    const note = $("note-form");
    if (note) {
      note.addEventListener("submit", async (e) => {
        e.preventDefault();
        $("note-error").textContent = "";
        try {
          await api("POST", `${path}/notes`, { text: note.text.value });
          note.reset();
          await loadTimeline();
        } catch (error) {
          $("note-error").textContent = error.message;
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

// The Tickets page: a filtered, paged list, and a board by status where a ticket moves by
// keyboard (← →: to the nearest column that way it may move to; into Solved only once
// confirmed), by its "Move to" menu or by dragging; the server decides every move. A writer
// also opens a new ticket in the page's dialog, and ticks rows of the list to change them
// together (one request, `POST /tickets/bulk`, each ticket changed as its own PATCH would).
"use strict";

(() => {
  const { T, api, h, say, fill, confirmed, unnamed, worded, once, showRefusals, customerChoice } = window.KithDom;
  const { status, priority, when, refusal, slaBadge } = window.KithTickets;
  const rows = document.getElementById("ticket-rows");
  if (!rows) return;
  const body = document.body;
  const canWrite = body.dataset.canWrite === "true";
  const shapes = JSON.parse(document.getElementById("ticket-shapes").textContent);
  const $ = (id) => document.getElementById(id);
  const people = { users: {}, teams: {}, answering: [], teamList: [] };
  const ticked = new Set(); // the ids of the list's ticked rows
  const state = { view: "list", cursor: null, seq: 0, clock: { base: Date.now(), since: 0, speed: 1 } };
  // Kith's clock (the demo's runs an hour a second), which SLA due times are on.
  const kithNow = () => state.clock.base + (performance.now() - state.clock.since) * state.clock.speed;

  const nameOf = (kind, id) => (id ? people[kind][id] || "…" : "—");

  function filters() {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData($("ticket-filters")).entries()) {
      if (value && !(state.view === "board" && key === "status")) params.set(key, value.trim());
    }
    return params;
  }

  // The SLA badge: worded, its colour only repeating the words (empty when no SLA applies).
  // Each shown badge keeps its ticket, from which the page's one timer words it again.
  const badged = new WeakMap();
  function badge(ticket, shown = slaBadge(ticket, kithNow())) {
    if (!shown) return h("span", { class: "sla-badge sla-none" }, "");
    const el = h("span", { class: "sla-badge sla-" + shown.kind, dataset: { sla: shown.kind } }, shown.text);
    badged.set(el, ticket);
    return el;
  }

  // A card's name: its number and subject, status, priority and SLA badge's words.
  function cardLabel(ticket, sla) {
    const label = `#${ticket.number} ${ticket.subject}`;
    return [label, status(ticket.status), priority(ticket.priority), sla && sla.text].filter(Boolean).join(", ");
  }

  // Due times pass and warnings come while the page is open: every badge is worded again from
  // the due and warning moments it was drawn from, on Kith's clock (the server's SLA worker
  // marks the same moments; a reload shows what it marked).
  function tickBadges() {
    const now = kithNow();
    for (const el of document.querySelectorAll(".sla-badge[data-sla]")) {
      const ticket = badged.get(el);
      const shown = ticket && slaBadge(ticket, now);
      if (!shown) continue;
      if (el.textContent !== shown.text) el.textContent = shown.text;
      if (el.dataset.sla !== shown.kind) {
        el.className = "sla-badge sla-" + shown.kind;
        el.dataset.sla = shown.kind;
      }
      const card = el.closest(".ticket-card");
      if (card) card.setAttribute("aria-label", cardLabel(ticket, shown));
    }
  }

  // ---- the list --------------------------------------------------------------------------

  // The customer, named by the server for the whole page (`customer.name`: how the team calls
  // them, none when unknown or another team's), as text; "—" when the customer is gone.
  function customerCell(ticket) {
    const customer = ticket.customer;
    if (!customer) return h("td", { class: "customer" }, T.tickets_no_customer);
    const href = `/app/contacts/${encodeURIComponent(customer.id)}`;
    return h("td", { class: "customer" }, h("a", { href }, customer.name || unnamed(customer.id)));
  }

  function tickCell(ticket) {
    const box = h("input", {
      type: "checkbox",
      class: "tick-one",
      value: ticket.id,
      "aria-label": fill(T.tickets_select_one, { number: ticket.number }),
      onchange: () => {
        if (box.checked) ticked.add(ticket.id);
        else ticked.delete(ticket.id);
        showTicks();
      },
    });
    box.checked = ticked.has(ticket.id);
    return h("td", { class: "tick" }, box);
  }

  function row(ticket) {
    const link = h("a", { href: `/app/tickets/${encodeURIComponent(ticket.id)}` }, `#${ticket.number}`);
    return h("tr", { dataset: { id: ticket.id } },
      canWrite ? tickCell(ticket) : null,
      h("th", { scope: "row" }, link),
      h("td", { class: "subject" }, ticket.subject),
      customerCell(ticket),
      h("td", {}, h("span", { class: "ticket-status status-" + ticket.status }, status(ticket.status))),
      h("td", {}, h("span", { class: "prio prio-" + ticket.priority }, priority(ticket.priority))),
      h("td", {}, badge(ticket)),
      h("td", {}, nameOf("users", ticket.assignee_id)),
      h("td", {}, nameOf("teams", ticket.team_id)),
      h("td", {}, h("time", { datetime: ticket.updated_at }, when(ticket.updated_at))));
  }

  async function loadList(more = false) {
    const seq = ++state.seq;
    const params = filters();
    params.set("limit", "25");
    if (more && state.cursor) params.set("cursor", state.cursor);
    const page = await api("GET", "/tickets?" + params.toString());
    if (seq !== state.seq) return; // a newer filter was typed meanwhile
    if (!more) {
      ticked.clear(); // ticks are for the rows shown: another list starts with none
      rows.replaceChildren();
    }
    rows.append(...page.items.map(row));
    state.cursor = page.next_cursor;
    $("more-tickets").hidden = !page.next_cursor;
    $("no-tickets").hidden = rows.children.length > 0;
    showTicks();
  }

  // ---- ticks and the bulk change ---------------------------------------------------------

  // "Select all" ticked, unticked or mixed as the rows are; the bar's change menu only while
  // something is ticked.
  function showTicks() {
    if (!canWrite) return;
    const boxes = [...rows.querySelectorAll("input.tick-one")];
    const on = boxes.filter((box) => box.checked).length;
    const all = $("select-all");
    all.checked = boxes.length > 0 && on === boxes.length;
    all.indeterminate = on > 0 && on < boxes.length;
    all.disabled = boxes.length === 0;
    $("bulk-count").textContent = !ticked.size ? ""
      : ticked.size === 1 ? T.tickets_bulk_selected_one : fill(T.tickets_bulk_selected, { n: ticked.size });
    $("bulk-actions").hidden = ticked.size === 0;
  }

  function tickAll(on) {
    for (const box of rows.querySelectorAll("input.tick-one")) {
      box.checked = on;
      if (on) ticked.add(box.value);
      else ticked.delete(box.value);
    }
    showTicks();
  }

  // The bar's one menu: a status (those a ticket can be moved to), a priority or an assignee
  // (those who may be given a ticket), each worded with what it sets.
  function fillBulk() {
    const reachable = new Set(Object.values(shapes.moves).flat());
    const named = (kind, text) => `${kind}${T.colon}${text}`;
    const group = (label, options) => h("optgroup", { label }, options);
    $("bulk-change").append(
      group(T.tickets_status, shapes.statuses.filter((s) => reachable.has(s)).map((s) =>
        h("option", { value: `status=${s}` }, named(T.tickets_status, status(s))))),
      group(T.tickets_priority, [...shapes.priorities].reverse().map((p) =>
        h("option", { value: `priority=${p}` }, named(T.tickets_priority, priority(p))))),
      group(T.tickets_assignee, [
        h("option", { value: "assignee_id=" }, named(T.tickets_assignee, T.tickets_unassigned)),
        ...people.answering.map((u) => h("option", { value: `assignee_id=${u.id}` }, named(T.tickets_assignee, u.name || u.email))),
      ]));
  }

  // What a refused ticket's own PATCH would have said, in the page's language.
  function refusedOne(each) {
    if (each.reason === "transition_refused") return refusal(each, each.number);
    if (each.reason === "ticket_merged") return `#${each.number}${T.colon}${fill(T.reason_ticket_merged, each.limits || {})}`;
    if (each.status === 409) return fill(T.tickets_bulk_conflict, { number: each.number });
    return `#${each.number}${T.colon}${worded(each)}`;
  }

  function bulkSaid({ changed, unchanged, refused }) {
    const parts = [changed.length === 1 ? T.tickets_bulk_done_one : fill(T.tickets_bulk_done, { n: changed.length })];
    if (unchanged.length) parts.push(fill(T.tickets_bulk_same, { n: unchanged.length }));
    const gone = refused.filter((each) => each.status === 404);
    if (gone.length) parts.push(fill(T.tickets_bulk_not_found, { n: gone.length }));
    parts.push(...refused.filter((each) => each.status !== 404).map(refusedOne));
    return parts.join(" ");
  }

  // The ticked tickets changed (a hundred a request), the list read again with no ticks, the
  // focus on "Select all" (the bar's menu hides), then the outcome said. Solved or Closed is
  // asked first, as on the board: each customer may be sent the survey.
  async function applyBulk() {
    const menu = $("bulk-change");
    if (!menu.value) {
      say(T.tickets_bulk_none_picked, { error: true });
      menu.focus();
      return;
    }
    const at = menu.value.indexOf("=");
    const field = menu.value.slice(0, at);
    const value = menu.value.slice(at + 1);
    const patch = { [field]: value || null };
    const ids = [...ticked];
    if (field === "status" && ENDING.includes(value)) {
      say("");
      const asked = value === "solved" ? T.tickets_bulk_confirm : T.tickets_bulk_confirm_move;
      if (!(await confirmed(fill(asked, { n: ids.length, status: status(value) })))) {
        $("bulk-apply").focus();
        say(T.tickets_bulk_cancelled);
        return;
      }
    }
    say("");
    const outcome = { changed: [], unchanged: [], refused: [] };
    try {
      for (let from = 0; from < ids.length; from += 100) {
        const answer = await api("POST", "/tickets/bulk", { ids: ids.slice(from, from + 100), patch });
        for (const key of Object.keys(outcome)) outcome[key].push(...answer[key]);
      }
    } catch (error) {
      say(error.message, { error: true });
      return;
    }
    menu.value = "";
    await loadList();
    $("select-all").focus();
    say(bulkSaid(outcome));
  }

  function wireTicks() {
    if (!canWrite) return;
    $("select-all").addEventListener("change", (e) => tickAll(e.target.checked));
    once($("bulk-apply"), applyBulk);
    $("bulk-clear").addEventListener("click", () => {
      tickAll(false);
      $("select-all").focus();
    });
  }

  // ---- a new ticket ----------------------------------------------------------------------

  // The server names `conversation_id` when no customer was chosen (a ticket is a
  // conversation's or a customer's) and refuses a customer of another team (403): here both
  // are the customer's field, in the page's words.
  function placed(error, payload) {
    if (error.status === 403 && payload.customer_id) return { fields: [{ field: "customer_id", message: T.tickets_new_forbidden }] };
    const fields = (error.fields.length ? error.fields : [{ field: error.field, message: error.message }])
      .map((each) => (each.field === "conversation_id" || (each.field === "customer_id" && error.status === 404)
        ? { ...each, field: "customer_id", message: T.tickets_new_customer_missing } : each));
    return { fields, message: error.message };
  }

  async function create(form) {
    const data = new FormData(form);
    const payload = { subject: data.get("subject"), priority: data.get("priority") };
    for (const key of ["customer_id", "assignee_id", "team_id"]) {
      if (data.get(key)) payload[key] = data.get(key);
    }
    if (data.get("description").trim()) payload.description = data.get("description");
    showRefusals(form, null);
    try {
      const made = await api("POST", "/tickets", payload);
      window.location.assign(`/app/tickets/${encodeURIComponent(made.id)}`);
      return once.LEAVING;
    } catch (error) {
      showRefusals(form, placed(error, payload));
    }
    return null;
  }

  // The form drawn afresh in the dialog, the focus in its first field; closed (Cancel, Escape
  // or the page leaving), it is taken out and the focus goes back to the button that opened it.
  function openNew() {
    const dialog = $("new-ticket-dialog");
    const opener = document.activeElement;
    dialog.replaceChildren($("new-ticket-template").content.cloneNode(true));
    const form = dialog.querySelector("form");
    form.elements.assignee_id.append(...people.answering.map((u) => h("option", { value: u.id }, u.name || u.email)));
    form.elements.team_id.append(...people.teamList.map((t) => h("option", { value: t.id }, t.name)));
    customerChoice(form.elements.customer_search, form.elements.customer_id, $("new-ticket-found"));
    for (const button of form.querySelectorAll("[data-close]")) button.addEventListener("click", () => dialog.close());
    once(form, () => create(form));
    dialog.addEventListener("close", () => {
      dialog.replaceChildren();
      if (opener && opener.isConnected) opener.focus();
    }, { once: true });
    dialog.showModal();
    form.elements.subject.focus();
  }

  // ---- the board -------------------------------------------------------------------------

  const columns = () => [...document.querySelectorAll(".board .column")];

  function card(ticket) {
    const label = `#${ticket.number} ${ticket.subject}`;
    const sla = slaBadge(ticket, kithNow());
    const item = h("li", {
      class: "ticket-card prio-edge-" + ticket.priority,
      tabindex: "0",
      draggable: canWrite ? "true" : null,
      "aria-label": cardLabel(ticket, sla),
      "aria-describedby": canWrite ? "board-help" : null,
      dataset: { id: ticket.id, number: ticket.number, status: ticket.status },
    },
    h("a", { href: `/app/tickets/${encodeURIComponent(ticket.id)}`, tabindex: "-1" }, label),
    h("p", { class: "card-meta" },
      h("span", { class: "prio prio-" + ticket.priority }, priority(ticket.priority)),
      " · ", nameOf("users", ticket.assignee_id)),
    sla ? h("p", { class: "card-sla" }, badge(ticket, sla)) : null);
    if (canWrite) {
      const allowed = shapes.moves[ticket.status] || [];
      const menu = h("select", {
        "aria-label": `${T.tickets_move} (#${ticket.number})`,
        class: "move",
        onchange: (e) => {
          const to = e.target.value;
          e.target.value = "";  // a move not confirmed leaves the menu as it was
          if (to) move(ticket, to);
        },
      }, h("option", { value: "" }, T.tickets_move_pick),
      allowed.map((s) => h("option", { value: s }, status(s))));
      item.append(menu);
      item.addEventListener("keydown", (e) => keyed(e, ticket, item));
      item.addEventListener("dragstart", (e) => {
        e.dataTransfer.setData("text/plain", ticket.id);
        e.dataTransfer.effectAllowed = "move";
      });
    }
    if (!canWrite) item.addEventListener("keydown", (e) => keyed(e, ticket, item));
    return item;
  }

  function keyed(event, ticket, item) {
    if (event.target !== item) return; // keys inside the menu are the menu's
    if (event.key === "Enter") {
      window.location.assign(`/app/tickets/${encodeURIComponent(ticket.id)}`);
      return;
    }
    if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      event.preventDefault();
      const sibling = event.key === "ArrowUp" ? item.previousElementSibling : item.nextElementSibling;
      if (sibling) sibling.focus();
      return;
    }
    if (!canWrite || (event.key !== "ArrowLeft" && event.key !== "ArrowRight")) return;
    event.preventDefault();
    if (moving) return; // the card is drawn again where the last move put it, then moves on
    keyMove(ticket, event.key === "ArrowRight" ? 1 : -1);
  }

  // Statuses that end the work (a survey may go to the customer): a key, the menu or a drag
  // reaches them only once the page's dialog is answered, never by a press too many.
  const ENDING = ["solved", "closed"];
  let moving = false;

  // ← or →: to the nearest column that way the ticket may move to (the allowed moves, not
  // the next column, which may refuse it); none that way is said, and nothing is sent.
  async function keyMove(ticket, step) {
    const order = shapes.board;
    const allowed = shapes.moves[ticket.status] || [];
    let to = null;
    for (let at = order.indexOf(ticket.status) + step; at >= 0 && at < order.length; at += step) {
      if (allowed.includes(order[at])) {
        to = order[at];
        break;
      }
    }
    if (!to) {
      const names = shapes.statuses.filter((s) => allowed.includes(s)).map(status);
      const template = !names.length ? T.tickets_refused_none
        : step > 0 ? T.tickets_key_none_after : T.tickets_key_none_before;
      say(fill(template, { number: ticket.number, status: status(ticket.status), allowed: names.join(T.list_separator) }));
      return;
    }
    moving = true;
    try {
      await move(ticket, to);
    } finally {
      moving = false;
    }
  }

  // A move that ends the work, asked first in the page's dialog; not confirmed, the card
  // keeps its place and the focus, and the live region says so.
  async function endConfirmed(ticket, to) {
    if (!ENDING.includes(to)) return true;
    say("");
    const ok = await confirmed(fill(to === "solved" ? T.tickets_confirm_solved : T.tickets_confirm_move,
      { number: ticket.number, status: status(to) }));
    if (!ok) {
      const card = document.querySelector(`.ticket-card[data-id="${CSS.escape(ticket.id)}"]`);
      if (card) card.focus();
      say(fill(T.tickets_move_cancelled, { number: ticket.number, status: status(ticket.status) }));
    }
    return ok;
  }

  // The board is drawn again and the card keeps the focus before the outcome is announced,
  // so a keyboard user goes on from where the card now is.
  async function move(ticket, to) {
    if (!(await endConfirmed(ticket, to))) return;
    let outcome;
    try {
      const moved = await api("PATCH", `/tickets/${encodeURIComponent(ticket.id)}`, { status: to });
      outcome = fill(T.tickets_moved, { number: moved.number, status: status(moved.status) });
    } catch (error) {
      outcome = refusal(error, ticket.number);
    }
    await loadBoard();
    const again = document.querySelector(`.ticket-card[data-id="${CSS.escape(ticket.id)}"]`);
    if (again) again.focus();
    say(outcome);
  }

  async function loadBoard() {
    const seq = ++state.seq;
    const base = filters();
    base.set("limit", "50");
    const pages = await Promise.all(shapes.board.map((s) => {
      const params = new URLSearchParams(base);
      params.set("status", s);
      return api("GET", "/tickets?" + params.toString());
    }));
    if (seq !== state.seq) return;
    shapes.board.forEach((s, i) => {
      const column = document.querySelector(`.column[data-status="${s}"]`);
      column.querySelector(".cards").replaceChildren(...pages[i].items.map(card));
      const count = pages[i].items.length;
      column.querySelector(".count").textContent = pages[i].next_cursor ? `${count}+` : String(count);
    });
  }

  function wireDrops() {
    if (!canWrite) return;
    for (const column of columns()) {
      column.addEventListener("dragover", (e) => { e.preventDefault(); column.classList.add("drop"); });
      column.addEventListener("dragleave", () => column.classList.remove("drop"));
      column.addEventListener("drop", (e) => {
        e.preventDefault();
        column.classList.remove("drop");
        const id = e.dataTransfer.getData("text/plain");
        const dragged = document.querySelector(`.ticket-card[data-id="${CSS.escape(id)}"]`);
        if (!dragged || dragged.dataset.status === column.dataset.status) return;
        move({ id, number: dragged.dataset.number, status: dragged.dataset.status }, column.dataset.status);
      });
    }
  }

  // ---- wiring ----------------------------------------------------------------------------

  function reload() {
    return (state.view === "board" ? loadBoard() : loadList()).catch((e) => say(e.message));
  }

  function show(view, remember) {
    state.view = view;
    for (const b of document.querySelectorAll(".views button")) {
      b.setAttribute("aria-pressed", String(b.dataset.view === view));
    }
    $("list-view").hidden = view !== "list";
    $("board-view").hidden = view !== "board";
    $("status-filter").hidden = view === "board";
    if (remember) { // a reload or a shared link keeps the view
      const url = new URL(window.location.href);
      url.searchParams.set("view", view);
      window.history.replaceState(null, "", url);
    }
    return reload();
  }

  async function syncClock() {
    try {
      const { now, speed } = await api("GET", "/clock");
      state.clock = { base: Date.parse(now), since: performance.now(), speed };
    } catch (_) {
      state.clock = { base: Date.now(), since: performance.now(), speed: 1 };
    }
  }

  async function start() {
    for (const b of document.querySelectorAll(".views button")) {
      b.addEventListener("click", () => show(b.dataset.view, true));
    }
    let typing = null;
    $("ticket-filters").addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(reload, 200);
    });
    $("ticket-filters").addEventListener("submit", (e) => { e.preventDefault(); reload(); });
    $("more-tickets").addEventListener("click", () => loadList(true).catch((e) => say(e.message)));
    wireDrops();
    wireTicks();
    const read = Promise.all([api("GET", "/users"), api("GET", "/teams"), syncClock()]);
    // The form's assignees and teams come from these lists: a press before they arrive waits.
    if (canWrite) $("new-ticket").addEventListener("click", () => read.then(openNew, (e) => say(e.message)));
    const [users, teams] = await read;
    for (const u of users.items) people.users[u.id] = u.name || u.email;
    people.answering = users.items.filter((u) => u.can_answer);
    people.teamList = teams.items;
    if (canWrite) fillBulk();
    for (const t of teams.items) {
      people.teams[t.id] = t.name;
      $("team-filter").append(h("option", { value: t.id }, t.name));
    }
    for (const u of users.items) {
      if (u.id !== body.dataset.userId) $("assignee-filter").append(h("option", { value: u.id }, u.name || u.email));
    }
    const asked = new URLSearchParams(window.location.search).get("view");
    await show(asked === "board" ? "board" : "list", false);
    setInterval(tickBadges, 30000); // one timer for the page's badges, list and board
    body.dataset.ready = "true";
  }

  start().catch((e) => say(e.message));
})();

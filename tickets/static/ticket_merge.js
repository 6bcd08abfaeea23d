// Merging this ticket, a duplicate, into another of the same customer: pick it by number
// (the customer's tickets that are not closed), confirm in the page's dialog, and the page
// moves to the ticket merged into. The server refuses what may not merge, named at the menu.
"use strict";

(() => {
  const { T, api, h, say, fill, markFields, confirmed, once } = window.KithDom;
  const section = document.getElementById("merge");
  const id = document.body.dataset.ticketId;
  if (!id) return;

  // Arrived from a merge (`#merged=28`): the status line says what happened and focus starts
  // on the page's heading, not lost on <body>; the mark leaves the address, so a reload or a
  // bookmark does not say it again.
  const arrived = /^#merged=(\d+)$/.exec(window.location.hash);
  if (arrived) {
    history.replaceState(history.state, "", window.location.pathname + window.location.search);
    say(fill(T["ticket_event_ticket.merged_in"], { source: arrived[1] }));
    const heading = document.querySelector("h1");
    heading.tabIndex = -1;
    heading.focus();
  }
  if (!section) return;
  const form = document.getElementById("merge-form");
  const menu = document.getElementById("merge-into");
  const number = Number(section.dataset.number);
  const OPEN = ["new", "open", "pending", "on_hold", "solved"];
  let others = [];

  async function load() {
    const query = new URLSearchParams({ customer_id: section.dataset.customerId, limit: "100" });
    for (const s of OPEN) query.append("status", s);
    const page = await api("GET", `/tickets?${query}`);
    others = (page.items || []).filter((t) => t.id !== id);
    menu.replaceChildren(...others.map((t) =>
      h("option", { value: t.id }, fill(T.ticket_merge_option, { number: t.number, subject: t.subject }))));
    form.hidden = others.length === 0;
    document.getElementById("merge-none").hidden = others.length > 0;
    section.hidden = false;
  }

  once(form, async () => {
    const target = others.find((t) => t.id === menu.value);
    if (!target) return;
    document.getElementById("merge-error").textContent = "";
    markFields(form, null);
    const text = fill(T.ticket_merge_confirm, { number, into: target.number, subject: target.subject });
    // Refused (Escape or Cancel): `once` gives focus back to the "Merge…" button that asked.
    if (!(await confirmed(text))) return;
    try {
      const merged = await api("POST", `/tickets/${encodeURIComponent(id)}/merge`, { into: target.id });
      window.location.assign(`/app/tickets/${encodeURIComponent(merged.into.id)}#merged=${number}`);
      return once.LEAVING;
    } catch (error) {
      const unplaced = markFields(form, error);
      const said = (error.fields && error.fields.length ? error.fields : [error]).map((f) => f.message);
      document.getElementById("merge-error").textContent = unplaced.map((f) => f.message).join(" ");
      say(said.join(" "));
    }
  });

  load().catch((error) => say(error.message, { error: true }));
})();

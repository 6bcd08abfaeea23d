// Merging this ticket, a duplicate, into another of the same customer: pick it by number
// (the customer's tickets that are not closed), confirm in the page's dialog, and the page
// moves to the ticket merged into. The server refuses what may not merge, named at the menu.
"use strict";

(() => {
  const { T, api, h, say, fill, markFields, confirmed, once } = window.KithDom;
  const section = document.getElementById("merge");
  const id = document.body.dataset.ticketId;
  if (!section || !id) return;
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
    if (!(await confirmed(text))) {
      menu.focus();
      return;
    }
    try {
      const merged = await api("POST", `/tickets/${encodeURIComponent(id)}/merge`, { into: target.id });
      window.location.assign(`/app/tickets/${encodeURIComponent(merged.into.id)}`);
      return once.LEAVING;
    } catch (error) {
      const unplaced = markFields(form, error);
      const said = (error.fields && error.fields.length ? error.fields : [error]).map((f) => f.message);
      document.getElementById("merge-error").textContent = unplaced.map((f) => f.message).join(" ");
      say(said.join(" "));
    }
  });

  load().catch((error) => say(error.message));
})();

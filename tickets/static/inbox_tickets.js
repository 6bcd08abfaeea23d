// The inbox's ticket panel: the open conversation's tickets, and one click to open a new one
// (its subject taken from the customer's last message, editable first). It follows the
// conversation the inbox shows through the inbox's `kith:conversation` event, so the rest of
// the customer panel is none of its business.
"use strict";

(() => {
  const { T, api, h, fill, showRefusals, once, settled, redrawRows } = window.KithDom;
  const { status, priority } = window.KithTickets;
  const slot = document.getElementById("tickets");
  if (!slot) return;
  const marketer = document.body.dataset.role === "marketer";
  const state = { conversation: null, edited: false, seq: 0 };

  const list = h("ul", { class: "panel-tickets", "aria-label": T.tickets });
  const none = h("p", { class: "empty" }, T.panel_tickets_none);
  const subject = h("input", { type: "text", name: "subject", maxlength: "200", required: true });
  // What the panel says: a ticket opened, or (as `.form-error`, KithDom.showRefusals) what of
  // a refusal no control holds.
  const said = h("p", { class: "hint form-error", role: "status" });
  const form = h("form", { class: "panel-open", "aria-label": T.panel_tickets_open },
    h("label", { dataset: { field: "subject" } }, T.panel_tickets_subject, " ", subject, " ",
      h("span", { class: "field-error" })),
    h("button", { type: "submit" }, T.panel_tickets_open));
  slot.replaceChildren(list, none, form, said);

  const link = (ticket, text) => h("a", { href: `/app/tickets/${encodeURIComponent(ticket.id)}` }, text);

  function lastWords(view) {
    const theirs = view.messages.filter((m) => m.direction === "in" && !m.private && m.text);
    const text = theirs.length ? theirs[theirs.length - 1].text : "";
    return text.split("\n").map((s) => s.trim()).find(Boolean)?.slice(0, 200) || "";
  }

  async function load(conversationId) {
    const seq = ++state.seq;
    const page = await api("GET", `/tickets?conversation_id=${encodeURIComponent(conversationId)}&limit=10`);
    await settled();
    if (seq !== state.seq) return;
    redrawRows(list, page.items.map((t) => h("li", { dataset: { id: t.id } },
      link(t, `#${t.number} ${t.subject}`), " ",
      h("span", { class: "ticket-status status-" + t.status }, status(t.status)), " ",
      h("span", { class: "prio prio-" + t.priority }, priority(t.priority)))));
    none.hidden = page.items.length > 0;
  }

  function show(view) {
    const conversation = view.conversation;
    const switched = !state.conversation || state.conversation.id !== conversation.id;
    state.conversation = conversation;
    if (switched) {
      state.edited = false;
      said.replaceChildren();
    }
    if (!state.edited && document.activeElement !== subject) subject.value = lastWords(view);
    form.hidden = marketer || !view.can_write;
    load(conversation.id).catch(() => {});
  }

  subject.addEventListener("input", () => { state.edited = true; });
  // Single-flight (a second Enter while the first is on its way opens nothing), and once the
  // ticket is open the subject is emptied and stays so for this conversation (not filled
  // again from the customer's words), so another Enter cannot open the same ticket twice.
  once(form, async () => {
    if (!state.conversation) return;
    const conversationId = state.conversation.id;
    showRefusals(slot, null);
    try {
      const made = await api("POST", "/tickets", {
        subject: subject.value, conversation_id: conversationId,
      });
      said.replaceChildren(link(made, fill(T.panel_tickets_opened, { number: made.number })));
      subject.value = "";
      state.edited = true;
      subject.focus();
      await load(conversationId);
    } catch (error) {
      // Each refused field at its control; the others (the conversation) said below.
      showRefusals(slot, error);
    }
  });
  document.addEventListener("kith:conversation", (event) => show(event.detail));
})();

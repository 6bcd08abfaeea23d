// The ticket page's conversation: the linked conversation's latest messages (read from the
// inbox's own `/conversations/{id}`, so each delivery line says what the inbox says: sending,
// delivered, or failed with the channel's reason, such as WeChat's closed 48-hour window) and
// a reply box, sent through `/tickets/{id}/replies`, which sends as the inbox does; the toggle
// makes it a note in the conversation, as the inbox's does.
"use strict";

(() => {
  const { T, api, h, say, said, unnamed, markFields, once, settled, redrawRows, dateTime: when } = window.KithDom;
  const body = document.body;
  const thread = document.getElementById("thread");
  if (!thread || !body.dataset.ticketId) return;
  const $ = (name) => document.getElementById(name);
  const path = `/tickets/${encodeURIComponent(body.dataset.ticketId)}`;
  const SHOWN = 20; // the latest messages; the inbox holds the rest
  const form = $("reply-form");
  const picker = $("reply-conversation");
  // `shown`: the conversation whose messages the thread holds (another one opens at its end)
  const state = { conversation: picker ? picker.value : thread.dataset.conversation, seq: 0, shown: null };

  function authorName(m, customerName, customerId) {
    if (m.private) return `${m.author.name || T.you} · ${T.note}`;
    if (m.author.kind === "bot") return `${T.bot}${m.author.name ? " · " + m.author.name : ""}`;
    if (m.author.kind === "system") return T.system;
    if (m.direction === "in") return m.author.name || customerName || unnamed(customerId);
    return m.author.id === body.dataset.userId ? T.you : m.author.name || T.you;
  }

  // The inbox's delivery line: its words, the channel's reason when it failed, and Retry.
  function delivery(m) {
    if (m.direction !== "out" || m.private || !m.delivery) return null;
    const status = m.delivery.status;
    const parts = [h("span", { class: "delivery delivery-" + status }, T[status] || status)];
    if (status === "failed" && m.delivery.error) parts.push(" ", h("span", { class: "delivery-error" }, m.delivery.error));
    if (status === "failed" && form) {
      parts.push(" ", h("button", {
        type: "button",
        onclick: async () => {
          try {
            await api("POST", `/messages/${encodeURIComponent(m.id)}/retry`);
          } catch (error) {
            say(error.message, { error: true });
          }
          await load();
        },
      }, T.retry));
    }
    return h("p", { class: "delivery-line" }, parts);
  }

  function item(m, customerName, customerId) {
    let kind = m.direction === "in" ? "in" : "out";
    if (m.private) kind = "note";
    return h("li", { class: "entry msg-" + kind, dataset: { id: m.id } },
      h("div", { class: "meta" },
        h("span", { class: "author" }, authorName(m, customerName, customerId)),
        h("time", { datetime: m.created_at }, when(m.created_at))),
      m.text ? h("p", { class: "text" }, said(m)) : null,
      delivery(m));
  }

  // Options named as the side list names the conversations ("Conversation on Website, open").
  function nameOptions() {
    if (!picker) return;
    for (const option of picker.options) {
      const link = document.querySelector(`#conversations a[data-conversation="${CSS.escape(option.value)}"]`);
      if (link) option.textContent = link.textContent;
    }
  }

  async function load() {
    const seq = ++state.seq;
    const id = state.conversation;
    let view;
    try {
      view = await api("GET", `/conversations/${encodeURIComponent(id)}`);
    } catch (error) {
      if (seq !== state.seq) return;
      thread.replaceChildren();
      state.shown = null;
      $("thread-empty").hidden = true;
      $("thread-refused").hidden = false; // another team's: neither read nor answered here
      if (form) form.hidden = true;
      return;
    }
    await settled();
    if (seq !== state.seq) return;
    // Asked again every 15 s: a message drawn as before stays (text being selected in it, a
    // press on its Retry), and the thread keeps where the agent scrolled to unless they were
    // at its end (then a new message shows) or it is another conversation's.
    const customerName = view.conversation.customer_name;
    const atEnd = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 8;
    const another = state.shown !== id;
    redrawRows(thread, view.messages.slice(-SHOWN).map((m) => item(m, customerName, view.conversation.customer_id)));
    if (another || atEnd) thread.scrollTop = thread.scrollHeight;
    state.shown = id;
    $("thread-empty").hidden = view.messages.length > 0;
    $("thread-refused").hidden = true;
    $("thread-inbox").href = `/app?conversation=${encodeURIComponent(id)}`;
    if (form) form.hidden = false;
    nameOptions();
  }

  function wire() {
    picker?.addEventListener("focus", nameOptions);
    picker?.addEventListener("change", () => {
      state.conversation = picker.value;
      load().catch(() => {});
    });
    if (!form) return;
    const toggle = $("reply-private");
    toggle.addEventListener("change", () => {
      $("reply-send").textContent = toggle.checked ? T.ticket_reply_add_note : T.ticket_reply_send;
      form.classList.toggle("as-note", toggle.checked);
    });
    $("reply-text").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    once(form, async () => {  // a double Enter sends one reply
      $("reply-error").textContent = "";
      markFields(form, null);
      const note = toggle.checked;
      try {
        await api("POST", `${path}/replies`,
          { text: $("reply-text").value, private: note, conversation_id: state.conversation });
      } catch (error) {
        const unplaced = markFields(form, error);
        $("reply-error").textContent = unplaced.map((f) => f.message).join(" ");
        say(error.fields.length ? error.fields.map((f) => f.message).join(" ") : error.message);
        if (!error.fields.length) $("reply-error").textContent = error.message;
        return;
      }
      $("reply-text").value = "";
      say(note ? T.ticket_reply_noted : T.ticket_reply_sent);
      await load();
      $("reply-text").focus();
      document.dispatchEvent(new CustomEvent("kith:ticket-replied"));
    });
  }

  wire();
  load().catch((e) => say(e.message));
  setInterval(() => load().catch(() => {}), 15000); // deliveries and the customer's answers
})();

// Kith inbox: a small hand-written client for the /app/api JSON and its event stream.
// Every piece of customer-supplied data reaches the page through textContent or a checked
// attribute; no string is ever parsed as HTML.
"use strict";

(() => {
  const body = document.body;
  const { T, ApiError, api, h, fill, said, dateTime, shortDateTime, channelIcon, showRefusals, newestOnly, settled, placeRows, redrawRows,
    replaceIfChanged, unnamed } = window.KithDom;
  const myId = body.dataset.userId;
  const canWrite = body.dataset.role !== "marketer";
  const $ = (id) => document.getElementById(id);

  const state = {
    view: "all",
    cursor: null,
    open: null, // the open conversation's id
    data: null, // its last loaded view
    customerId: null,
    users: [],
    teams: [],
    channels: {},
    typing: false,
    typingTimer: null,
  };

  // "30 Dec, 14:05" as in every page's lists (KithDom.shortDateTime), not "Dec 30, 02:05 PM".
  const when = shortDateTime;

  function safeUrl(url) {
    try {
      const parsed = new URL(url, window.location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  // A moment as a datetime-local input holds it: the agent's own time, to the minute.
  function localInput(iso) {
    const moment = new Date(iso);
    return new Date(moment.getTime() - moment.getTimezoneOffset() * 6e4).toISOString().slice(0, 16);
  }

  function flash(message) {
    $("connection").textContent = message;
  }

  // ---- the conversation list -------------------------------------------------------------

  function listQuery() {
    const form = new FormData($("filters"));
    const params = new URLSearchParams({ view: state.view });
    for (const [key, value] of form.entries()) if (value) params.set(key, value);
    return params;
  }

  // The time a row shows follows the sort: sorted by waiting, how long the customer has
  // waited; sorted by activity, the last message (a "waiting since" there reads as the sort).
  function rowTime(c) {
    const waiting = $("filters").elements.namedItem("sort").value === "waiting" && c.waiting_since;
    return waiting
      ? h("time", { class: "waiting", datetime: c.waiting_since }, `${T.waiting_since} ${when(c.waiting_since)}`)
      : h("time", { datetime: c.last_message_at }, when(c.last_message_at));
  }

  function conversationItem(c) {
    const unread = c.unread_count > 0;
    return h("li", { class: unread ? "unread" : "" },
      h("button", {
        type: "button",
        class: "conv",
        "aria-current": c.id === state.open ? "true" : null,
        dataset: { id: c.id },
        onclick: () => openConversation(c.id),
      },
      channelIcon(c.channel_type),
      h("span", { class: "name" }, conversationName(c)),
      unread ? h("span", { class: "badge" }, `${c.unread_count} ${T.unread}`) : null,
      h("span", { class: "status status-" + c.status }, T["status_" + c.status]),
      c.priority !== "none" ? h("span", { class: "prio prio-" + c.priority }, T["priority_" + c.priority]) : null,
      c.labels.map(labelTag),
      rowTime(c),
      c.matched ? h("span", { class: "preview preview-match" }, c.matched) : previewLine(c.preview)));
  }

  // A label as a tag: the ones Kith writes itself (handoff, negative-sentiment, appeal) in the
  // page's language, the stored label in its title (what the label filter takes).
  function labelTag(label) {
    const worded = T["label_" + label];
    return h("span", { class: "tag", title: worded ? label : null }, worded || label);
  }

  // A conversation already listed keeps its row, and so does each part of it that is
  // unchanged; the parts that change take no clicks (inbox.css). So a click on a row lands
  // even when a new message redraws the list between its press and release (redrawRows in
  // dom.js says why).
  function keepRows(list, rows) {
    const listed = new Map([...list.children].map((li) => [li.querySelector(".conv")?.dataset.id, li]));
    return rows.map((row) => {
      const kept = listed.get(row.querySelector(".conv").dataset.id);
      if (!kept) return row;
      kept.className = row.className;
      const [was, now] = [kept.querySelector(".conv"), row.querySelector(".conv")];
      for (const name of was.getAttributeNames()) if (!now.hasAttribute(name)) was.removeAttribute(name);
      for (const name of now.getAttributeNames()) was.setAttribute(name, now.getAttribute(name));
      redrawInside(was, now);
      return kept;
    });
  }

  // `was` takes the children of `now`, keeping in place each one equal to the one there.
  function redrawInside(was, now) {
    const parts = [...now.childNodes];
    parts.forEach((part, i) => {
      const there = was.childNodes[i];
      if (!there) was.append(part);
      else if (!there.isEqualNode(part)) there.replaceWith(part);
    });
    while (was.childNodes.length > parts.length) was.lastChild.remove();
  }

  function convButton(id) {
    return document.querySelector(`#conversations .conv[data-id="${CSS.escape(id)}"]`);
  }

  // A group's conversation goes by the group's name; a private one by its customer's.
  function conversationName(c) {
    if (c.group) return c.group.title || T.group_untitled;
    return c.customer_name || unnamed(c.customer_id);
  }

  // The last message or note, one line, as text (kept on the conversation by the server).
  function previewLine(p) {
    if (!p) return null;
    const who = p.private ? T.preview_note + T.colon : p.author_kind === "agent" ? T.preview_you + T.colon : "";
    const text = said(p) || (p.attachments ? `📎 ${T.attachment}` : "");
    return h("span", { class: "preview" + (p.private ? " preview-note" : "") }, who + text);
  }

  // Only the newest request's page is drawn: a filter set before the first list has come
  // never shows over the unfiltered answer that lands after it.
  const listTurn = newestOnly();
  async function loadList(more = false) {
    const params = listQuery();
    if (more && state.cursor) params.set("cursor", state.cursor);
    const current = listTurn();
    const page = await api("GET", "/conversations?" + params.toString());
    await settled();  // not under a press (dom.js)
    if (!current()) return;
    const list = $("conversations");
    // Focus stays on the conversation it was on, also when its row was drawn anew.
    const focused = document.activeElement && document.activeElement.closest("#conversations .conv");
    const rows = page.items.map(conversationItem);
    if (more) list.append(...rows);
    else placeRows(list, keepRows(list, rows));
    if (focused && !focused.isConnected) convButton(focused.dataset.id)?.focus();
    state.cursor = page.next_cursor;
    $("more").hidden = !page.next_cursor;
    $("empty").hidden = list.children.length > 0;
  }

  // ---- the open conversation -------------------------------------------------------------

  // The reader's place in the messages: a conversation opens at its newest message, follows
  // new ones while the reader is there, and stays put when they scrolled up to read. A list
  // not shown (a phone shows one pane at a time, and a conversation is drawn before its pane
  // shows) has no size to measure: QA found it opened at its oldest message, scrolled to a
  // bottom of 0 px. So whether the reader is at the newest is remembered from the last look
  // at a list that was shown, and the list goes there again whenever its size changes
  // (shown, or the window turned) while they are.
  const reading = {
    atNewest: true,
    shown: (list) => list.clientHeight > 0,
    look(list) {
      if (this.shown(list)) this.atNewest = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    },
    keep(list) {
      if (this.atNewest && this.shown(list)) list.scrollTop = list.scrollHeight;
    },
  };
  $("messages").addEventListener("scroll", (e) => reading.look(e.target), { passive: true });
  new ResizeObserver(() => reading.keep($("messages"))).observe($("messages"));

  // A note is signed by who wrote it: an agent (you, or a colleague by name), a bot, or
  // Kith itself (a note of its own, such as "the customer left their email"), never the
  // viewer by default.
  function authorName(m, customerName) {
    if (m.private) return `${noteAuthor(m.author)} · ${T.note}`;
    if (m.author.kind === "bot") return `${T.bot}${m.author.name ? " · " + m.author.name : ""}`;
    if (m.author.kind === "system") return T.system;
    if (m.direction === "in") return m.author.name || customerName || unnamed(m.customer_id);
    return m.author.id === myId ? T.you : m.author.name || T.you;
  }

  function noteAuthor(author) {
    if (author.kind === "agent") return author.id === myId ? T.you : author.name || T.colleague;
    if (author.kind === "bot") return author.name ? `${T.bot} · ${author.name}` : T.bot;
    return T.system;
  }

  function deliveryView(m) {
    if (m.direction !== "out" || m.private || !m.delivery) return null;
    const status = m.delivery.status;
    const parts = [h("span", { class: "delivery delivery-" + status }, T[status] || status)];
    if (status === "failed") {
      if (m.delivery.error) parts.push(h("span", { class: "delivery-error" }, m.delivery.error));
      if (canWrite) {
        parts.push(h("button", {
          type: "button",
          onclick: async () => {
            await api("POST", `/messages/${encodeURIComponent(m.id)}/retry`);
            await refreshOpen();
          },
        }, T.retry));
      }
    }
    return h("div", { class: "delivery-line" }, parts);
  }

  function messageItem(m, view) {
    let kind = m.direction === "in" ? "in" : "out";
    if (m.private) kind = "note";
    else if (m.author.kind === "bot" || m.author.kind === "system") kind = m.author.kind;
    const attachments = m.attachments.map((a) => {
      const label = a.name || T.attachment;
      const url = a.url ? safeUrl(a.url) : null;
      return h("li", {}, url
        ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, label)
        : h("span", {}, label));
    });
    return h("li", { class: "msg msg-" + kind + (m.deleted ? " deleted" : ""), dataset: { id: m.id } },
      h("div", { class: "meta" },
        m.direction === "in" ? channelIcon(view.conversation.channel_type) : null,
        h("span", { class: "author" }, authorName(m, view.conversation.customer_name)),
        h("time", { datetime: m.created_at }, when(m.created_at))),
      m.text ? h("p", { class: "text" }, said(m)) : null,
      attachments.length ? h("ul", { class: "attachments" }, attachments) : null,
      deliveryView(m));
  }

  function fillSelect(select, items, value, emptyLabel) {
    select.replaceChildren(h("option", { value: "" }, emptyLabel),
      ...items.map((i) => h("option", { value: i.id }, i.name || i.email || i.id)));
    select.value = value || "";
  }

  function renderConversation(view) {
    const c = view.conversation;
    const fresh = !state.data || state.data.conversation.id !== c.id;
    state.data = view;
    $("placeholder").hidden = true;
    $("conversation").hidden = false;
    $("show-customer").hidden = false;
    replaceIfChanged($("conv-title"), [channelIcon(c.channel_type), " ",
      conversationName(c), state.channels[c.channel_id] ? ` · ${state.channels[c.channel_id].name}` : ""]);
    // Only those who can answer (agents and admins, enabled) are offered; whoever has it
    // now stays listed so that the list says so.
    const assignable = state.users.filter((u) => u.can_answer || u.id === c.assignee_id);
    // A control the agent is in, or whose change was refused, keeps what they chose or typed.
    const held = (id) => document.activeElement === $(id) || $(id).getAttribute("aria-invalid") === "true";
    if (!held("assignee")) fillSelect($("assignee"), assignable, c.assignee_id, T.unassigned);
    if (!held("team")) fillSelect($("team"), state.teams, c.team_id, T.no_team);
    if (!held("status")) $("status").value = c.status;
    if (!held("status") && !held("snooze-until")) $("snooze-box").hidden = c.status !== "snoozed";
    if (c.snoozed_until && !held("snooze-until")) $("snooze-until").value = localInput(c.snoozed_until);
    if (!held("priority")) $("priority").value = c.priority;
    if (!held("labels")) $("labels").value = c.labels.join(", ");
    $("resolve").textContent = c.status === "resolved" ? T.reopen : T.resolve;
    const list = $("messages");
    if (fresh) reading.atNewest = true;  // another conversation opens at its newest message
    else reading.look(list);
    redrawRows(list, view.messages.map((m) => messageItem(m, view)));
    reading.keep(list);
    const writable = view.can_write;
    $("composer").hidden = !writable;
    $("read-only").hidden = writable;
    for (const id of ["assignee", "team", "status", "priority", "labels", "save-labels", "resolve", "snooze-until"]) {
      $(id).disabled = !writable;
    }
    for (const button of document.querySelectorAll("#conversations .conv")) {
      button.setAttribute("aria-current", button.dataset.id === c.id ? "true" : "false");
    }
    // The customer panel's sections (tickets, orders) follow the conversation shown.
    document.dispatchEvent(new CustomEvent("kith:conversation", { detail: view }));
  }

  async function refreshOpen() {
    if (!state.open) return;
    const id = state.open;
    let view;
    try {
      view = await api("GET", `/conversations/${encodeURIComponent(id)}`);
    } catch (err) {
      if ((err.status === 404 || err.status === 403) && state.open === id) return closeGone(whyGone(err.status, id));
      throw err;
    }
    await settled();
    if (view.conversation.id !== state.open) return;
    renderConversation(view);
    if (view.can_write && view.conversation.unread_count > 0) {
      await api("POST", `/conversations/${encodeURIComponent(state.open)}/read`);
      scheduleList();
    }
    if (view.conversation.group) showGroup(view);
    else if (view.conversation.customer_id !== state.customerId) await loadCustomer(view.conversation.customer_id);
  }

  // Why a conversation cannot be shown: the one on screen was erased with its customer; one
  // asked for (a link, a stale list) never was, or is another team's.
  function whyGone(status, id) {
    if (status === 403) return T.conversation_forbidden;
    return state.data && state.data.conversation.id === id ? T.conversation_gone : T.conversation_missing;
  }

  // The open conversation cannot be shown (`why`): the pane says so.
  function closeGone(why) {
    state.open = null;
    state.customerId = null;
    state.data = null;
    blank(why);
    if (panes.dataset.pane === "customer") showPane("conversation");
    scheduleList();
  }

  // The conversation pane with nothing open in it, saying why.
  function blank(text) {
    $("conversation").hidden = true;
    $("show-customer").hidden = true;
    $("customer").hidden = true;
    $("group").hidden = true;
    $("placeholder").textContent = text;
    $("placeholder").hidden = false;
  }

  // `how`: "tap" (the agent chose it here: it goes on the browser's history, so Back returns
  // to the one before, or the list), "link" (the page's own address named it) or "history".
  async function openConversation(id, how = "tap") {
    if (state.open && state.open !== id) leave(state.open);
    if (state.open !== id) showRefusals(convHead(), null);  // another's refusal goes
    const paneBefore = panes.dataset.pane;
    state.open = id;
    state.customerId = null;
    await refreshOpen();
    if (state.open === id) shown(id, how, paneBefore);
    await report("viewing");
    await refreshPresence();
    scheduleList();
  }

  // ---- one pane at a time on a phone -------------------------------------------------------

  // Which pane shows is inbox.css's business (one at a time under 768 px, all three wider);
  // this page only says which one it would be. On a phone an opened conversation is a step
  // on the browser's history (Back, a swipe, or the page's own Back button return to the
  // list), and focus follows the pane so a keyboard user is never left on a hidden control.
  const panes = document.querySelector("main.panes");
  const phone = window.matchMedia("(max-width: 767px)");
  let onHistory = false; // the open conversation is an entry this page pushed

  function showPane(name) {
    panes.dataset.pane = name;
    $("show-customer").setAttribute("aria-expanded", String(name === "customer"));
  }

  // The address follows the open conversation at every width (a link to copy, as in
  // Chatwoot): a conversation the agent picks is a step on the history, so Back returns to
  // the one before or to the list. On a phone only one from the list is (Back there returns
  // to the list), and focus goes to the pane that now shows.
  function shown(id, how, paneBefore) {
    const fromList = paneBefore === "list";
    // A pane the agent chose while it loaded (its Customer button) stands.
    if (panes.dataset.pane === paneBefore) showPane("conversation");
    const entry = [{ kithConversation: id }, "", "?conversation=" + encodeURIComponent(id)];
    const already = history.state && history.state.kithConversation === id;
    if (how === "tap" && !already && (phone.matches ? fromList : true)) {
      history.pushState(...entry);
      onHistory = true;
    } else if (how !== "history") {
      history.replaceState(...entry);
    }
    if (phone.matches) $("conv-title").focus();
  }

  // Back to the list: the conversation is closed (no longer marked read or viewed by this
  // agent) and focus returns to it in the list.
  function closeToList() {
    const id = state.open;
    if (id) leave(id);
    state.open = null;
    state.customerId = null;
    state.data = null;
    blank(T.pick_conversation);
    showPane("list");
    for (const button of document.querySelectorAll("#conversations .conv")) {
      button.setAttribute("aria-current", "false");
    }
    if (id) convButton(id)?.focus();
    scheduleList();
  }

  function backToList() {
    if (onHistory) {
      history.back(); // popstate closes it
    } else {
      history.replaceState(null, "", window.location.pathname);
      closeToList();
    }
  }

  function wirePanes() {
    $("back-to-list").addEventListener("click", backToList);
    $("show-customer").addEventListener("click", () => {
      showPane("customer");
      $("hide-customer").focus();
    });
    const hideCustomer = () => {
      showPane("conversation");
      $("show-customer").focus();
    };
    $("hide-customer").addEventListener("click", hideCustomer);
    $("customer-pane").addEventListener("keydown", (e) => {
      if (e.key === "Escape" && panes.dataset.pane === "customer" && phone.matches) hideCustomer();
    });
    window.addEventListener("popstate", (e) => {
      const id = e.state && e.state.kithConversation;
      onHistory = Boolean(id);
      if (!id) closeToList();
      else if (id !== state.open) openConversation(id, "history").catch((err) => flash(err.message));
      else showPane("conversation");
    });
  }

  const convHead = () => document.querySelector("#conversation .conv-head");

  // One change of the conversation's header. A refusal is said at the control it names
  // (aria-invalid, its message under it, focus on it), what the agent chose or typed stays
  // until they change it again; one naming no control is said under the controls.
  async function change(patch) {
    const head = convHead();
    showRefusals(head, null);
    const id = state.open;
    let updated;
    try {
      updated = await api("PATCH", `/conversations/${encodeURIComponent(id)}`, patch);
    } catch (err) {
      if (state.open !== id) return;
      showRefusals(head, err);  // the rest in #conv-refusal, the header's .form-error
      return;
    }
    if (state.open !== id) return;
    state.data.conversation = updated;
    renderConversation(state.data);
    scheduleList();
  }

  // ---- presence: who else is here ------------------------------------------------------

  // Reports go out one after another: two in flight could land in the wrong order and
  // leave "viewing" where the agent is typing.
  let presenceQueue = Promise.resolve();
  function report(stateName) {
    if (!state.open) return presenceQueue;
    const id = state.open;
    presenceQueue = presenceQueue
      .catch(() => {})
      .then(() => api("POST", `/conversations/${encodeURIComponent(id)}/presence`, { state: stateName }));
    return presenceQueue;
  }

  function leave(id) {
    const path = `/conversations/${encodeURIComponent(id)}/presence`;
    api("POST", path, { state: "left" }, { keepalive: true }).catch(() => {});
  }

  // Only the newest answer is shown: refreshes overlap, and an older answer arriving last
  // would bring back a state that has already changed.
  let presenceSeq = 0;
  async function refreshPresence() {
    if (!state.open) return;
    const seq = ++presenceSeq;
    const id = state.open;
    const others = await api("GET", `/conversations/${encodeURIComponent(id)}/presence`);
    if (seq !== presenceSeq || id !== state.open) return;
    $("presence").textContent = others.items.length
      ? `${T.also_viewing} ${others.items.map((o) => o.name + (o.state === "viewing" ? "" : fill(T.in_parens, { text: T.typing }))).join(T.list_separator)}`
      : "";
  }

  // A reply being typed is "typing", which the web chat widget shows its customer; a private
  // note is "noting", which only colleagues see (the widget must never hint at a note).
  function writing() {
    return $("private").checked ? "noting" : "typing";
  }

  function stopTyping() {
    clearTimeout(state.typingTimer);
    if (!state.typing) return;
    state.typing = false;
    report("viewing").catch(() => {});
  }

  function typed() {
    if (!state.typing) {
      state.typing = true;
      report(writing()).catch(() => {});
    }
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(() => {
      state.typing = false;
      report("viewing").catch(() => {});
    }, 4000);
  }

  // ---- canned responses ------------------------------------------------------------------

  async function suggestCanned() {
    const text = $("reply").value;
    const box = $("canned");
    const match = /^\/([\w-]*)$/.exec(text);
    if (!match) {
      box.hidden = true;
      return;
    }
    const found = await api("GET", "/canned?q=" + encodeURIComponent(match[1]));
    if ($("reply").value !== text) return;  // typed on meanwhile: its own answer follows
    box.replaceChildren(...found.items.map((c) => h("li", {},
      h("button", { type: "button", class: "canned-pick", onclick: () => useCanned(c) },
        `/${c.shortcut}`, h("span", { class: "canned-text" }, ` ${c.text}`)))));
    box.hidden = found.items.length === 0;
    // "/" alone found nothing: the workspace has none yet. Said under the box (a polite
    // status, read out) until the next key.
    if (!match[1] && !found.items.length) $("canned-none").textContent = T.canned_none;
  }

  function useCanned(canned) {
    $("reply").value = canned.text;
    $("canned").hidden = true;
    $("reply").focus();
  }

  // ---- the customer panel ----------------------------------------------------------------

  function pairs(list, entries) {
    replaceIfChanged(list, entries.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]));
  }

  // A group's conversation has many customers: the panel shows the group, its community (a
  // feature's slot) and who wrote last in the messages shown (links to their contact pages).
  const GROUP_PEOPLE = 12;
  function showGroup(view) {
    const c = view.conversation;
    state.customerId = null;
    $("customer").hidden = true;
    $("group").hidden = false;
    replaceIfChanged($("group-title"), [conversationName(c)]);
    const channel = state.channels[c.channel_id];
    replaceIfChanged($("group-where"), [channelIcon(c.channel_type), " ",
      T["communities_kind_" + c.group.kind] || c.group.kind, channel ? ` · ${channel.name}` : ""]);
    const people = new Map();
    for (const m of [...view.messages].reverse()) {
      if (m.direction === "in" && m.author.kind === "customer" && !people.has(m.customer_id)) {
        people.set(m.customer_id, m.author.name || unnamed(m.customer_id));
      }
    }
    const latest = [...people].slice(0, GROUP_PEOPLE);
    const rows = latest.map(([id, name]) =>
      h("li", { dataset: { id } }, h("a", { href: `/app/contacts/${encodeURIComponent(id)}` }, name)));
    redrawRows($("group-people"), rows.length ? rows : [h("li", {}, T.group_people_none)]);
    const more = people.size - latest.length;
    $("group-people-more").hidden = more <= 0;
    $("group-people-more").textContent = fill(T.group_people_more, { n: more });
  }

  async function loadCustomer(id) {
    state.customerId = id;
    const c = await api("GET", `/customers/${encodeURIComponent(id)}`);
    await settled();
    if (state.customerId !== id) return;
    $("group").hidden = true;
    $("customer").hidden = false;
    replaceIfChanged($("customer-name"), [c.name || unnamed(c.id)]);
    pairs($("customer-contacts"), [
      ...(c.emails.length ? [[T.emails, c.emails.join(", ")]] : []),
      ...(c.phones.length ? [[T.phones, c.phones.join(", ")]] : []),
    ]);
    replaceIfChanged($("identities"), c.identities.map((i) => h("li", {},
      channelIcon(i.channel_type), ` ${i.channel_name || i.channel_type}${T.colon}`, h("code", {}, i.external_id))));
    if (document.activeElement !== $("tags")) $("tags").value = c.tags.join(", ");
    pairs($("attributes"), Object.entries(c.attributes));
    redrawRows($("other-conversations"), c.conversations
      .filter((o) => o.id !== state.open)
      .map((o) => h("li", { dataset: { id: o.id } }, h("button", { type: "button", onclick: () => openConversation(o.id) },
        channelIcon(o.channel_type), ` ${T["status_" + o.status]} · ${when(o.last_message_at)}`))));
    const sentiments = c.sentiment_history.map((s) =>
      h("li", {}, `${T["sentiment_" + s.label] || s.label}${fill(T.in_parens, { text: Number(s.score).toFixed(2) })} · ${when(s.at)}`));
    replaceIfChanged($("sentiments"), sentiments.length ? sentiments : [h("li", {}, T.coming_soon)]);
    // Panel sections kept by features (merge, orders …) follow the customer shown: one event,
    // the customer as the panel read it, with the ids those sections key on.
    const detail = { ...c, customerId: id, conversationId: state.open };
    document.dispatchEvent(new CustomEvent("kith:customer", { detail }));
  }

  // ---- live updates ----------------------------------------------------------------------

  let listTimer = null;
  let openTimer = null;
  function scheduleList() {
    clearTimeout(listTimer);
    listTimer = setTimeout(() => loadList().catch(() => {}), 60);
  }
  function scheduleOpen() {
    clearTimeout(openTimer);
    openTimer = setTimeout(() => refreshOpen().catch(() => {}), 30);
  }

  function handle(event) {
    // Features' panel sections hear every event too (the orders panel: an order moved).
    document.dispatchEvent(new CustomEvent("kith:event", { detail: event }));
    if (event.type === "presence.changed") {
      if (event.conversation_id === state.open && event.actor.id !== myId) refreshPresence().catch(() => {});
      return;
    }
    if (event.type === "customer.erased") {  // no ids in it: look again at what is shown
      scheduleList();
      if (state.open) scheduleOpen();
      return;
    }
    if (event.type.startsWith("customer.")) {
      if (event.customer_id === state.customerId) loadCustomer(state.customerId).catch(() => {});
      return;
    }
    if (event.conversation_id && event.conversation_id === state.open) scheduleOpen();
    if (event.conversation_id) scheduleList();
  }

  function connect() {
    const head = body.dataset.head;
    const source = new EventSource("/app/api/events" + (head ? "?after=" + encodeURIComponent(head) : ""));
    source.addEventListener("kith", (e) => handle(JSON.parse(e.data)));
    source.addEventListener("open", () => {
      flash("");
      body.dataset.live = "true";
      // Presence is announced on change only: ask once the stream is live, so someone who
      // started typing while this page was connecting is not missed.
      refreshPresence().catch(() => {});
    });
    source.addEventListener("error", () => {
      body.dataset.live = "false";
      flash(T.reconnecting);
      if (source.readyState === EventSource.CLOSED) {
        api("GET", "/me").then(() => setTimeout(connect, 2000)).catch(() => {});
      }
    });
  }

  // ---- wiring ----------------------------------------------------------------------------

  function wire() {
    wirePanes();
    for (const button of document.querySelectorAll(".views button")) {
      button.addEventListener("click", () => {
        state.view = button.dataset.view;
        for (const b of document.querySelectorAll(".views button")) {
          b.setAttribute("aria-pressed", String(b === button));
        }
        loadList();
      });
    }
    $("filters").addEventListener("input", scheduleList);
    // A search spans every status (as Chatwoot's does): a customer asking again about a
    // resolved conversation is found. The Status filter shows it (Any) and may narrow the
    // search again; clearing the search puts back the status the agent had before.
    const filters = $("filters").elements;
    let statusBeforeSearch = null;
    filters.namedItem("q").addEventListener("input", () => {
      const searching = filters.namedItem("q").value.trim() !== "";
      const status = filters.namedItem("status");
      if (searching && statusBeforeSearch === null) {
        statusBeforeSearch = status.value;
        status.value = "any";
      } else if (!searching && statusBeforeSearch !== null) {
        status.value = statusBeforeSearch;
        statusBeforeSearch = null;
      }
    });
    $("filters").addEventListener("submit", (e) => { e.preventDefault(); loadList(); });
    $("more").addEventListener("click", () => loadList(true));
    $("assignee").addEventListener("change", () => change({ assignee_id: $("assignee").value || null }));
    $("team").addEventListener("change", () => change({ team_id: $("team").value || null }));
    $("status").addEventListener("change", () => {
      const status = $("status").value;
      $("snooze-box").hidden = status !== "snoozed";
      if (status === "snoozed") {
        if (!$("snooze-until").value) {
          // Kith's day: the demo's runs fast
          $("snooze-until").value = localInput(new Date(KithClock.now() + 864e5).toISOString());
        }
        change({ status, snoozed_until: new Date($("snooze-until").value).toISOString() });
      } else {
        change({ status });
      }
    });
    $("snooze-until").addEventListener("change", () => {
      if ($("snooze-until").value) {
        change({ status: "snoozed", snoozed_until: new Date($("snooze-until").value).toISOString() });
      }
    });
    $("priority").addEventListener("change", () => change({ priority: $("priority").value }));
    $("save-labels").addEventListener("click", () =>
      change({ labels: $("labels").value.split(",").map((s) => s.trim()).filter(Boolean) }));
    $("resolve").addEventListener("click", () =>
      change({ status: state.data.conversation.status === "resolved" ? "open" : "resolved" }));
    $("reply").addEventListener("input", () => {
      typed();
      suggestCanned().catch(() => {});
    });
    $("reply").addEventListener("keydown", (e) => {
      $("canned-none").textContent = "";
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        const first = document.querySelector("#canned:not([hidden]) .canned-pick");
        if (first) first.click();
        else $("composer").requestSubmit();
      }
    });
    $("private").addEventListener("change", () => {
      $("send").textContent = $("private").checked ? T.add_note : T.send;
      $("composer").classList.toggle("as-note", $("private").checked);
      if (state.typing) report(writing()).catch(() => {});
    });
    // One reply a press however fast Enter comes again: a second Enter while the first is
    // being sent (its text still in the box) is ignored, not sent twice (KithDom.once).
    window.KithDom.once($("composer"), async () => {
      const text = $("reply").value;
      if (!text.trim() || !state.open) return;
      try {
        await api("POST", `/conversations/${encodeURIComponent(state.open)}/messages`,
          { text, private: $("private").checked });
        $("reply").value = "";
        $("canned").hidden = true;
        stopTyping();
        await refreshOpen();
      } catch (err) {
        flash(err.message);
      }
    });
    $("tags-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const tags = $("tags").value.split(",").map((s) => s.trim()).filter(Boolean);
      await api("PUT", `/customers/${encodeURIComponent(state.customerId)}/tags`, { tags });
      await loadCustomer(state.customerId);
    });
    $("canned-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await api("POST", "/canned", { shortcut: $("canned-shortcut").value, text: $("canned-text").value });
        $("canned-form").reset();
        flash("");
      } catch (err) {
        flash(err.message);
      }
    });
    document.addEventListener("kith:customer-changed", () => { // a merge (inbox_merge.js)
      if (state.customerId) loadCustomer(state.customerId).catch(() => {});
      scheduleList();
    });
    window.addEventListener("pagehide", () => { if (state.open) leave(state.open); });
    setInterval(() => {
      if (state.open) report(state.typing ? writing() : "viewing").catch(() => {});
    }, 10000);
    if (!canWrite) $("canned-form").hidden = true;
  }

  async function start() {
    wire();
    const [users, teams, channels] = await Promise.all([
      api("GET", "/users"), api("GET", "/teams"), api("GET", "/channels"),
    ]);
    state.users = users.items;
    state.teams = teams.items;
    for (const c of channels.items) {
      state.channels[c.id] = c;
      $("channel-filter").append(h("option", { value: c.id }, c.name));
    }
    await loadList();
    const linked = new URLSearchParams(window.location.search).get("conversation");
    if (linked) await openConversation(linked, "link"); // from a customer page
    connect();
    body.dataset.ready = "true";
  }

  start().catch((err) => flash(err.message));
})();

// One customer: profile (edited by whoever reads them: name, emails, phones, locale, time
// zone, attributes), identities, tags (changed by admins and marketers), attributes,
// consent per channel, segments, conversations (links into the inbox), a paged timeline,
// and for admins the erasure of the customer (after a confirmation naming them).
// Customer text only ever reaches the page through text nodes and attributes (KithDom.h).
"use strict";

(() => {
  const { T, api, h, say: notice, confirmed, showRefusals, dateTime: when } = window.KithDom;
  const body = document.body;
  const $ = (id) => document.getElementById(id);
  const id = body.dataset.customerId;
  const path = "/contacts/" + encodeURIComponent(id);
  const manage = body.dataset.canManage === "true";
  const erasable = body.dataset.canErase === "true";
  const state = { customer: null, profile: null, timeline: null };

  const fmt = (template, values) =>
    template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
  const channelName = (type) => T["contacts_channel_" + type] || type || "";
  // The name the team calls them by (`shown_name`: name, else email, then phone, as the
  // inbox does), else "Customer 7F3A" from the end of their id.
  const nameOf = (c) => c.shown_name || c.name || window.KithDom.unnamed(c.id);
  const facts = (pairs) => pairs.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]);

  function renderTags(tags) {
    $("tags").replaceChildren(...tags.map((tag) => h("li", {}, h("span", {}, tag),
      manage ? h("button", { type: "button", "aria-label": fmt(T.contacts_remove_tag, { tag }),
        onclick: () => saveTags(state.customer.tags.filter((t) => t !== tag)) }, "×") : null)));
  }

  async function saveTags(tags) {
    notice("");
    try {
      state.customer = await api("PATCH", path, { tags });
      renderTags(state.customer.tags);
      notice(T.saved);
    } catch (err) {
      notice(err.message);
    }
  }

  function render(profile) {
    const c = profile.customer;
    state.customer = c;
    state.profile = profile;
    $("profile-heading").textContent = nameOf(c);
    document.title = `${nameOf(c)} · Kith`;
    $("profile").replaceChildren(...facts([
      [T.emails, c.emails.join(", ")],
      [T.phones, c.phones.join(", ")],
      [T.channels, c.channels.map(channelName).join(", ")],
      [T.contacts_locale, c.locale || ""],
      [T.contacts_timezone, c.timezone || ""],
      [T.contacts_first_seen, when(c.first_seen)],
      [T.contacts_last_seen, when(c.last_seen)],
      [T.contacts_sentiment_trend, c.sentiment && typeof c.sentiment.score === "number"
        ? c.sentiment.score.toFixed(2) : "—"],
    ]));
    $("identities").replaceChildren(...profile.identities.map((i) => h("tr", {},
      h("td", {}, i.channel_name || i.channel_id), h("td", {}, channelName(i.channel_type)),
      h("td", {}, i.external_id), h("td", {}, i.email || ""), h("td", {}, i.phone || ""))));
    renderTags(c.tags);
    $("attributes").replaceChildren(...facts(Object.entries(c.attributes).map(([key, value]) =>
      [key, typeof value === "string" ? value : JSON.stringify(value)])));
    // Absent means unknown: every channel the customer is on gets a row.
    const consents = { ...Object.fromEntries(c.channels.map((type) => [type, { state: "unknown" }])), ...c.consent };
    $("consent").replaceChildren(...Object.entries(consents).map(([type, consent]) => h("tr", {},
      h("td", {}, channelName(type)), h("td", {}, T["contacts_consent_" + consent.state] || consent.state),
      h("td", {}, when(consent.at)), h("td", {}, consent.via || ""))));
    $("segments").replaceChildren(...(profile.segments.length
      ? profile.segments.map((s) => h("li", {}, h("a", { href: "/app/segments#" + encodeURIComponent(s.id) }, s.name)))
      : [h("li", { class: "empty" }, T.contacts_no_segments)]));
    $("conversations").replaceChildren(...(profile.conversations.length
      ? profile.conversations.map((v) => h("li", {}, h("a", { href: "/app?conversation=" + encodeURIComponent(v.id) },
        fmt(T.contacts_open_conversation, {
          channel: v.channel_name || v.channel_id,
          status: T["status_" + v.status] || v.status,
          when: when(v.last_message_at),
        }))))
      : [h("li", { class: "empty" }, T.contacts_no_conversations)]));
  }

  // ---- Edit profile: the form opens filled in, every refusal is shown at its field (an
  // address another customer has names them), and a save re-renders the page. ----
  const form = $("profile-form");
  const editButton = $("edit-profile");
  const attributeText = (value) => (typeof value === "string" ? value : JSON.stringify(value));
  const lines = (text) => text.split(/[\n,;]+/).map((line) => line.trim()).filter(Boolean);

  function openEditor() {
    const c = state.customer;
    const fields = form.elements;
    fields.name.value = c.name || "";
    fields.emails.value = c.emails.join("\n");
    fields.phones.value = c.phones.join("\n");
    fields.locale.value = c.locale || "";
    fields.timezone.value = c.timezone || "";
    fields.new_key.value = "";
    fields.new_value.value = "";
    $("edit-attributes").replaceChildren(...Object.entries(c.attributes).map(([key, value]) =>
      h("div", { class: "profile-field", dataset: { field: "attributes." + key } },
        h("label", {}, key, " ", h("input", { type: "text", dataset: { key }, value: attributeText(value) })),
        h("p", { class: "field-error" }))));
    showRefusals(form, null);
    form.hidden = false;
    editButton.setAttribute("aria-expanded", "true");
    fields.name.focus();
  }

  function closeEditor() {
    form.hidden = true;
    editButton.setAttribute("aria-expanded", "false");
    editButton.focus();
  }

  // What the form changes: the lists and texts as typed, and only the attributes edited
  // (blank removes one; a number or true/false stays one when it was one).
  function edits() {
    const fields = form.elements;
    const attributes = {};
    for (const input of $("edit-attributes").querySelectorAll("input[data-key]")) {
      const key = input.dataset.key;
      const before = state.customer.attributes[key];
      const text = input.value.trim();
      if (text === attributeText(before)) continue;
      if (!text) attributes[key] = null;
      else if (typeof before === "number" && text !== "" && Number.isFinite(Number(text))) attributes[key] = Number(text);
      else if (typeof before === "boolean" && (text === "true" || text === "false")) attributes[key] = text === "true";
      else attributes[key] = input.value;
    }
    const newKey = fields.new_key.value.trim();
    if (newKey) attributes[newKey] = fields.new_value.value;
    return {
      name: fields.name.value,
      emails: lines(fields.emails.value),
      phones: lines(fields.phones.value),
      locale: fields.locale.value,
      timezone: fields.timezone.value,
      attributes,
    };
  }

  async function saveProfile(event) {
    event.preventDefault();
    notice("");
    showRefusals(form, null);
    let customer;
    try {
      customer = await api("PATCH", path + "/profile", edits());
    } catch (err) {
      showRefusals(form, err);  // each field at its control, the rest in #profile-error
      return;
    }
    render({ ...state.profile, customer });
    closeEditor();
    notice(T.saved);
    await loadTimeline();
  }

  // An event type in words: its own label, else its kind ("Ticket") and the rest of the
  // type spelled out, so a type added later still reads ("Ticket: reassigned").
  function eventName(type) {
    const key = type.replace(/\W/g, "_");
    if (T["contacts_event_" + key]) return T["contacts_event_" + key];
    const [group, ...rest] = type.split(".");
    const what = rest.join(" ").replace(/_/g, " ");
    const groupName = T["contacts_event_group_" + group];
    if (groupName && what) return fmt(T.contacts_event_other, { group: groupName, what });
    const words = type.replace(/[._]/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  // Who did it: people and bots by their names; Kith's own parts (sentiment analysis, ticket
  // rules, the community roster …) in words, as code names them, not anyone's choice.
  function actorName(actor) {
    const name = actor.name || "";
    const own = name && T["contacts_actor_name_" + name.toLowerCase().replace(/\W+/g, "_")];
    if (actor.kind === "system") {
      if (!name) return T.contacts_actor_system;
      if (name.startsWith("API token ")) return fmt(T.contacts_actor_api_token, { name: name.slice(10) });
      return own || name;
    }
    if (actor.kind === "bot") {
      if (own && !actor.id) return own;  // a rule's bot (moderation), not one someone built
      return name ? fmt(T.contacts_actor_bot, { name }) : T.contacts_actor_bot_unnamed;
    }
    return name || T["contacts_actor_" + actor.kind] || actor.kind;
  }

  function entry(e) {
    return h("li", {}, h("time", { datetime: e.created_at }, when(e.created_at)),
      h("strong", {}, eventName(e.type)), " · ", actorName(e.actor));
  }

  async function loadTimeline(more = false) {
    const query = more && state.timeline ? "?cursor=" + encodeURIComponent(state.timeline) : "";
    const page = await api("GET", path + "/timeline" + query);
    if (!more) $("timeline").replaceChildren();
    $("timeline").append(...page.items.map(entry));
    if (!$("timeline").children.length) $("timeline").append(h("li", { class: "empty" }, T.contacts_no_events));
    state.timeline = page.next_cursor;
    $("more-timeline").hidden = !page.next_cursor;
  }

  async function erase() {
    const name = nameOf(state.customer);
    $("erase-error").textContent = "";
    if (!(await confirmed(fmt(T.contacts_erase_confirm, { name })))) return;
    try {
      await api("DELETE", path);
    } catch (err) {
      $("erase-error").textContent = err.message;
      return;
    }
    document.title = `${T.contacts_erased} · Kith`;
    $("customer").replaceChildren(h("section", { class: "card" },
      h("h2", {}, T.contacts_erased), h("p", {}, h("a", { href: "/app/contacts" }, T.contacts_back))));
    notice(T.contacts_erased);
  }

  async function start() {
    render(await api("GET", path));
    await loadTimeline();
    $("more-timeline").addEventListener("click", () => loadTimeline(true).catch((e) => notice(e.message)));
    if (manage) {
      $("add-tag").addEventListener("submit", async (event) => {
        event.preventDefault();
        const input = event.currentTarget.elements.tag;
        const tag = input.value.trim();
        if (!tag) return;
        await saveTags([...state.customer.tags.filter((t) => t !== tag), tag]);
        input.value = "";
      });
    }
    editButton.addEventListener("click", () => (form.hidden ? openEditor() : closeEditor()));
    $("cancel-profile").addEventListener("click", closeEditor);
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") closeEditor();
    });
    form.addEventListener("submit", (event) => saveProfile(event).catch((e) => notice(e.message)));
    if (erasable) $("erase").addEventListener("click", () => erase().catch((e) => notice(e.message)));
    $("customer").hidden = false;
    body.dataset.ready = "true";
  }

  // A customer the page cannot show (none by this id, erased or merged away, or one who talks
  // only to another team): said in the page's language, with the way back to Contacts.
  function missing() {
    document.title = `${T.contacts_customer_missing} · Kith`;
    const back = h("a", { href: "/app/contacts" }, T.contacts_back);
    $("customer").replaceChildren(h("section", { class: "card" },
      h("h2", {}, T.contacts_customer_missing), h("p", {}, back)));
    $("customer").hidden = false;
    body.dataset.ready = "true";
  }

  start().catch((err) => (state.customer === null && [403, 404].includes(err.status)
    ? missing() : notice(err.message)));
})();

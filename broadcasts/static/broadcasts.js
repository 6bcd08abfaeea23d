// The Broadcasts page: list with stats, compose a draft (to customers or to communities),
// preview, move between states, and a community broadcast's post into each community.
"use strict";

(() => {
  const { T, api, h, say, fill, worded, dateTime, once, confirmed, markFields, customerChoice, settled, redrawRows } =
    window.KithDom;
  const rows = document.getElementById("broadcast-rows");
  if (!rows) return;
  const MOVES = {
    draft: ["schedule", "cancel"],
    scheduled: ["pause", "cancel"],
    sending: ["pause", "cancel"],
    paused: ["resume", "cancel"],
    done: [],
    cancelled: [],
  };
  let shown = null;
  let editing = null;  // the draft the compose form is editing (null: a new one), as loaded
  const segmentNames = new Map();
  const communityChoices = new Map();

  const skippedTotal = (stats) => Object.values(stats.skipped).reduce((a, b) => a + b, 0);

  // The list is asked for again every 5 s. Only a row that reads differently (its data, or
  // "Send now" once its time has come) is drawn again, so a screen reader keeps its place;
  // a row that reads as before stays the element it was, and focus in a row drawn anew goes
  // to its same control (`redrawRows`).
  const latest = new Map();  // each listed broadcast as last read: what a row's buttons act on
  const now = (b) => latest.get(b.id) || b;
  async function load() {
    const page = await api("GET", "/broadcasts?limit=100");
    await settled();
    latest.clear();
    for (const b of page.items) latest.set(b.id, b);
    redrawRows(rows, page.items.map(row));
    document.getElementById("no-broadcasts").hidden = page.items.length > 0;
    if (shown) {
      const again = page.items.find((b) => b.id === shown.id);
      if (again) await showStats(again, false);
    }
  }

  function communityTitle(id) {
    const c = communityChoices.get(id);
    return c ? c.title : id;
  }

  function audienceOf(b) {
    if (b.community_ids) return b.community_ids.map(communityTitle).join(", ");
    if (b.segment_id) return T.broadcasts_segment + T.colon + (segmentNames.get(b.segment_id) ?? b.segment_id);
    const n = (b.customer_ids || []).length;
    return n === 1 ? T.broadcasts_one_customer : T.broadcasts_n_customers.replace("{n}", n);
  }

  // A draft with no start time (or one gone by Kith's clock) goes out as soon as it is
  // scheduled: its button says so.
  const startsNow = (b) => !b.send_at || Date.parse(b.send_at) <= window.KithClock.now();

  // A name stored blank before names were checked still reads as something.
  const named = (b) => (b.name || "").trim() || T.broadcasts_unnamed;

  // The name opens the broadcast, as Chatwoot's and Braze's lists do: a draft in the
  // compose form, any other at its stats.
  const nameLink = (b) => h("a", {
    href: b.status === "draft" ? "#compose" : "#stats",
    dataset: { action: "name" },
    onclick: (event) => {
      event.preventDefault();
      if (b.status === "draft") startEditing(now(b));
      else showStats(now(b), true);
    },
  }, named(b));

  // A row's button says its move, and is named with the broadcast it acts on ("Edit: Spring
  // sale"), as the Sequences list's are: a screen reader listing buttons tells them apart.
  const rowButton = (b, action, text, onclick) => h("button", {
    type: "button", dataset: { action }, "aria-label": text + T.colon + named(b), onclick,
  }, text);

  function row(b) {
    const buttons = MOVES[b.status].map((move) => rowButton(b, move,
      move === "schedule" && startsNow(b) ? T.broadcasts_do_send_now : T["broadcasts_do_" + move],
      () => act(now(b), move)));
    if (b.status === "draft") buttons.unshift(rowButton(b, "edit", T.broadcasts_do_edit, () => startEditing(now(b))));
    buttons.push(rowButton(b, "open", T.broadcasts_open, () => showStats(now(b), true)));
    const figure = (value, failed = false) =>
      h("td", { class: failed && value ? "num failed" : "num" }, value);
    return h("tr", { dataset: { id: b.id } },
      h("th", { scope: "row" }, nameLink(b)),
      h("td", { class: "audience" }, audienceOf(b)),
      h("td", { class: "state-cell" }, statusOf(b)),
      figure(b.stats.targeted),
      figure(b.stats.sent),
      figure(b.stats.delivered),
      figure(b.stats.failed, true),
      figure(skippedTotal(b.stats)),
      h("td", { class: "actions" }, h("div", { class: "row-actions" }, buttons)));
  }

  // "Scheduled" says when: the time it goes out, in the page's language and the browser's
  // zone, as every page writes a moment (`KithDom.dateTime`), under the state's word.
  function statusOf(b) {
    const state = h("span", { class: "state" }, T["broadcasts_state_" + b.status]);
    if (b.status !== "scheduled" || !b.send_at) return [state];
    return [state, h("time", { datetime: b.send_at }, dateTime(b.send_at))];
  }

  // Sending (or scheduling) and cancelling ask first, naming the broadcast: a cancel cannot
  // be undone. Declined, nothing is asked of the server and focus is back on the row's button
  // (the row may have been drawn anew while the question was open).
  async function act(b, move) {
    const question = move === "schedule" ? await sendQuestion(b)
      : move === "cancel" ? fill(T.broadcasts_confirm_cancel, { name: named(b) }) : null;
    const words = move === "cancel" ? { yes: T.broadcasts_cancel_yes, no: T.broadcasts_cancel_keep } : {};
    if (question && !(await confirmed(question, words))) {
      backTo(b, move);
      return;
    }
    try {
      const moved = await api("POST", `/broadcasts/${b.id}/${move}`);
      say(named(moved) + T.colon + movedWords(move, moved));
    } catch (error) {
      say(named(b) + T.colon + composeRefusal(error));
    }
    await load();
  }

  function backTo(b, move) {
    const active = document.activeElement;
    if (active && active !== document.body && !active.closest("dialog")) return;
    const row = [...rows.children].find((tr) => tr.dataset.id === b.id);
    row?.querySelector(`button[data-action="${CSS.escape(move)}"]`)?.focus();
  }

  // What happened, truthfully: "Send now" queues it to go out at once (the workers start it
  // in moments), "Schedule" sets it for its time; any other move reads as its new state.
  function movedWords(move, moved) {
    if (move !== "schedule" || moved.status === "sending") {
      return T["broadcasts_state_" + moved.status];
    }
    return startsNow(moved) ? T.broadcasts_queued_now
      : fill(T.broadcasts_scheduled_for, { when: dateTime(moved.send_at) });
  }

  // "Send “Spring sale” to 1,234 customers now?": the reach named before anything goes out,
  // as Braze and Mautic ask; a time ahead is said with it.
  const number = new Intl.NumberFormat(document.body.dataset.locale === "zh" ? "zh-CN" : "en-GB");
  async function sendQuestion(b) {
    const counted = (n, one, many) => (n === 1 ? T[one] : fill(T[many], { n: number.format(n) }));
    let reach = T.broadcasts_reach_unknown;
    if (b.community_ids) {
      reach = counted(b.community_ids.length, "broadcasts_reach_community", "broadcasts_reach_communities");
    } else {
      try {
        const e = await api("GET", `/broadcasts/${b.id}/estimate`);
        if (e.capped) reach = fill(T.broadcasts_reach_at_least, { n: number.format(e.in_audience) });
        else if (e.in_audience !== null) reach = counted(e.in_audience, "broadcasts_reach_customer", "broadcasts_reach_customers");
      } catch (error) {
        // not counted now: the question still names the broadcast, and asks
      }
    }
    const words = startsNow(b) ? T.broadcasts_confirm_now : T.broadcasts_confirm_at;
    return fill(words, { name: b.name, reach, when: dateTime(b.send_at) });
  }

  // "12 (25% of sent)": the recipients who followed a link, and their share of those sent to.
  function clickedText(stats) {
    if (!stats.sent) return String(stats.clicked);
    const rate = `${Math.round((stats.clicked / stats.sent) * 1000) / 10}%`;
    return fill(T.broadcasts_clicked_rate, { n: stats.clicked, rate });
  }

  async function showStats(b, focus) {
    shown = b;
    const section = document.getElementById("stats");
    section.hidden = false;
    document.getElementById("stats-heading").textContent = `${b.name} · ${T["broadcasts_state_" + b.status]}`;
    // A community broadcast targets groups, one post each, and its links are not tracked
    // (the whole group reads the one post): no Clicked figure for it.
    const toGroups = Boolean(b.community_ids);
    const figures = [
      [toGroups ? "targeted_groups" : "targeted", b.stats.targeted], ["sent", b.stats.sent],
      ["delivered", b.stats.delivered], ["failed", b.stats.failed], ["replied", b.stats.replied],
      ...(toGroups ? [] : [["clicked", clickedText(b.stats)]]),
      ["unsubscribed", b.stats.unsubscribed], ["held", b.stats.held],
    ];
    const items = figures.flatMap(([key, value]) =>
      [h("dt", {}, T["broadcasts_" + key]), h("dd", {}, value)]);
    for (const [reason, count] of Object.entries(b.stats.skipped)) {
      items.push(h("dt", {}, T.broadcasts_skipped + T.colon + (T["broadcasts_reason_" + reason] || reason)),
        h("dd", {}, count));
    }
    document.getElementById("stats-figures").replaceChildren(...items);
    const estimateBox = document.getElementById("draft-estimate");
    const estimating = !b.community_ids && (b.status === "draft" || b.status === "scheduled");
    estimateBox.hidden = !estimating;
    if (estimating) {
      api("GET", `/broadcasts/${b.id}/estimate`)
        .then((e) => { estimateBox.querySelector(".estimate").textContent = estimateText(e); })
        .catch((e) => { estimateBox.querySelector(".estimate").textContent = e.message; });
    }
    const toCommunities = Boolean(b.community_ids);
    document.getElementById("preview").hidden = toCommunities;
    const listed = !toCommunities && !["draft", "scheduled"].includes(b.status);
    document.getElementById("recipients").hidden = !listed;
    if (listed && (recipientsOf !== b.id || focus)) showRecipients(b, true).catch((e) => say(e.message));
    document.getElementById("deliveries").hidden = !toCommunities;
    if (toCommunities) {
      await showDeliveries(b);
      if (focus) document.getElementById("deliveries-heading").focus();
      return;
    }
    // the channel choices, redrawn only when they changed: the 5 s refresh keeps a choice
    const select = document.querySelector("#preview-form select[name=channel]");
    if ([...select.options].map((o) => o.value).join("\n") !== ["", ...b.channels].join("\n")) {
      select.replaceChildren(h("option", { value: "" }, T.broadcasts_preview_any),
        ...b.channels.map((c) => h("option", { value: c }, c)));
    }
    if (focus) section.querySelector("input").focus();
  }

  // "In the audience 6 · reachable 1 · would receive it 1 · skipped: no reachable channel 5",
  // with the sample's size when only part of the audience was checked.
  function estimateText(e) {
    if (e.in_audience === null) return T.broadcasts_estimate_timed_out;
    const counted = e.capped ? T.broadcasts_estimate_at_least.replace("{n}", e.in_audience) : e.in_audience;
    const parts = [fill(T.broadcasts_estimate_figures, {
      audience: counted, reachable: e.reachable, consented: e.consented, held: e.held })];
    if (e.skipped.length) {
      parts.push(T.broadcasts_estimate_skipped.replace("{reasons}", e.skipped
        .map((s) => `${T["broadcasts_reason_" + s.reason] || s.reason} ${s.count}`).join(", ")));
    }
    if (e.sampled) parts.push(T.broadcasts_estimate_sample.replace("{n}", e.checked));
    return parts.join(" · ");
  }

  // One row per community: its post pending, sent, delivered, failed or skipped (and why).
  async function showDeliveries(b) {
    const posts = await api("GET", `/broadcasts/${b.id}/communities`);
    const count = (outcomes) => posts.filter((p) => outcomes.includes(p.outcome)).length;
    document.getElementById("deliveries-summary").textContent = T.broadcasts_deliveries_summary
      .replace("{sent}", count(["sent", "delivered"]))
      .replace("{delivered}", count(["delivered"]))
      .replace("{failed}", count(["failed"]))
      .replace("{skipped}", count(["skipped"]))
      .replace("{pending}", count(["pending"]));
    document.getElementById("delivery-rows").replaceChildren(...posts.map((p) => {
      const why = p.reason ? fill(T.in_parens, { text: T["broadcasts_reason_" + p.reason] || p.reason }) : "";
      return h("tr", {},
        h("th", { scope: "row" }, p.title),
        h("td", {}, platformName(p.platform)),
        h("td", { class: "outcome-" + p.outcome }, T["broadcasts_outcome_" + p.outcome] + why),
        h("td", {}, p.sent_at ? dateTime(p.sent_at) : "—"));
    }));
  }

  // Who the broadcast was for, a page at a time, as the status filter asks: drawn when its
  // panel opens for a broadcast or the filter changes (not on the 5 s refresh: a reader's
  // place in a long list stays), "Load more" appends. The CSV link downloads the same choice.
  let recipientsOf = null;
  let recipientsNext = null;
  const STATUSES = { sent: ["sent"], pending: ["pending", "held"], skipped: ["skipped"], failed: ["failed"] };

  async function showRecipients(b, fresh) {
    recipientsOf = b.id;
    const chosen = STATUSES[document.getElementById("recipient-status").value] || [];
    const query = new URLSearchParams({ limit: "25" });
    for (const s of chosen) query.append("status", s);
    if (fresh) {
      const asked = new URLSearchParams(chosen.map((s) => ["status", s]));
      document.getElementById("recipients-csv").href = `/app/api/broadcasts/${b.id}/recipients.csv?${asked}`;
    }
    if (!fresh && recipientsNext) query.set("cursor", recipientsNext);
    const page = await api("GET", `/broadcasts/${b.id}/recipients?${query}`);
    if (recipientsOf !== b.id) return;  // another broadcast opened meanwhile
    recipientsNext = page.next_cursor;
    const rowsOut = page.items.map(recipientRow);
    const body = document.getElementById("recipient-rows");
    if (fresh) body.replaceChildren(...rowsOut);
    else body.append(...rowsOut);
    document.getElementById("no-recipients").hidden = body.children.length > 0;
    document.getElementById("recipients-more").hidden = !recipientsNext;
  }

  function recipientRow(r) {
    const status = r.status === "held" ? "pending" : r.status;
    const why = r.detail_reason
      ? worded({ message: r.detail, reason: r.detail_reason, limits: r.detail_limits })
      : r.reason ? T["broadcasts_reason_" + r.reason] || r.reason : "";
    const where = r.channel_type ? ` · ${r.channel_type}` : "";
    return h("tr", {},
      h("th", { scope: "row" }, r.customer_name || T.find_customer_unnamed),
      h("td", { class: "outcome-" + status }, (T["broadcasts_outcome_" + status] || status) + where),
      h("td", {}, why),
      h("td", {}, r.sent_at ? dateTime(r.sent_at) : "—"));
  }

  document.getElementById("recipient-status").addEventListener("change", () => {
    if (shown) showRecipients(shown, true).catch((e) => say(e.message));
  });
  document.getElementById("recipients-more").addEventListener("click", () => {
    if (shown) showRecipients(shown, false).catch((e) => say(e.message));
  });

  function platformName(platform) {
    return T["broadcasts_platform_" + platform] || platform;
  }

  document.getElementById("preview-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const error = document.getElementById("preview-error");
    const out = document.getElementById("preview-out");
    error.textContent = "";
    try {
      const body = { customer_id: form.customer_id.value };
      if (form.channel.value) body.channel = form.channel.value;
      const p = await api("POST", `/broadcasts/${shown.id}/preview`, body);
      const why = T["broadcasts_reason_" + p.reason] || p.reason;
      const where = p.decision === "go" ? `${p.channel_type}` : T["broadcasts_decision_" + p.decision] + T.colon + why;
      const failed = () => worded({ message: p.error, reason: p.error_reason, limits: p.error_limits });
      out.textContent = `${where} · ${p.language}\n\n${p.text ?? failed()}`;
    } catch (e) {
      out.textContent = "";  // not the previous customer's preview under this error
      error.textContent = e.message;
    }
  });

  // The preview's customer, found by name (or email, phone, tag) with the contacts search.
  const previewForm = document.getElementById("preview-form");
  customerChoice(previewForm.customer_search, previewForm.customer_id,
    document.getElementById("preview-found"), () => {
      document.getElementById("preview-out").textContent = "";  // not the last customer's
      document.getElementById("preview-error").textContent = "";
    });

  function isoOrNull(value) {
    return value ? new Date(value).toISOString() : null;
  }

  // An ISO moment as a datetime-local input's value, in the browser's zone.
  function localInput(iso) {
    if (!iso) return "";
    const at = new Date(iso);
    return new Date(at.getTime() - at.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }

  // Edit a draft: the compose form filled with it, saved with PATCH.
  function startEditing(b) {
    stopEditing();
    editing = b;
    compose.name.value = b.name;
    compose.audience.value = b.community_ids ? "communities" : "customers";
    showAudience();
    compose.segment_id.value = b.segment_id || "";
    compose.customer_ids.value = (b.customer_ids || []).join(", ");
    for (const box of compose.querySelectorAll("input[name=community_id]")) {
      box.checked = (b.community_ids || []).includes(box.value);
    }
    countPicked();
    compose.text_en.value = b.message.text.en || "";
    compose.text_zh.value = b.message.text.zh || "";
    if (!b.community_ids) pickChannels(b.channels);
    compose.send_at.value = localInput(b.send_at);
    compose.send_by.value = localInput(b.send_by);
    document.getElementById("editing-text").textContent = T.broadcasts_editing.replace("{name}", b.name);
    document.getElementById("editing").hidden = false;
    document.getElementById("compose-save").textContent = T.broadcasts_save_changes;
    compose.scrollIntoView({ block: "start" });
    compose.name.focus();
  }

  function stopEditing() {
    editing = null;
    document.getElementById("editing").hidden = true;
    document.getElementById("compose-save").textContent = T.broadcasts_save;
    compose.reset();  // every channel of the workspace ticked again
    for (const extra of document.querySelectorAll("#channel-choices .not-here")) extra.remove();
    showAudience();
    document.getElementById("compose-error").textContent = "";
    markFields(compose, null);
    forgetEstimate();
  }

  once(document.getElementById("compose"), async (event) => {  // a double Enter: one draft
    const form = event.target;
    const error = document.getElementById("compose-error");
    error.textContent = "";
    markFields(form, null);
    if (estimateErred) showEstimate("");  // a refusal of an earlier attempt is not this one's
    say("");
    const text = {};
    if (form.text_en.value.trim()) text.en = form.text_en.value;
    if (form.text_zh.value.trim()) text.zh = form.text_zh.value;
    const body = {
      name: form.name.value,
      message: { text },
      channels: pickedChannels(),
      send_at: isoOrNull(form.send_at.value),
      send_by: isoOrNull(form.send_by.value),
    };
    const toCommunities = form.audience.value === "communities";
    if (toCommunities) {
      delete body.channels;  // each community's post goes out on its own channel
      body.community_ids = [...form.querySelectorAll("input[name=community_id]:checked")].map((c) => c.value);
    } else if (form.segment_id.value) body.segment_id = form.segment_id.value;
    else body.customer_ids = form.customer_ids.value.split(/[\s,]+/).filter(Boolean);
    communitiesError.textContent = "";
    // The version loaded: an edit saved by someone else since is refused (409, `changed`),
    // and the form keeps what this user typed.
    if (editing) body.version = editing.version;
    try {
      const made = editing
        ? await api("PATCH", `/broadcasts/${editing.id}`, body)
        : await api("POST", "/broadcasts", body);
      say(made.name + T.colon + (editing ? T.broadcasts_saved_changes : T.broadcasts_state_draft));
      stopEditing();
      await load();
    } catch (e) {
      if (e.reason === "changed") {
        error.textContent = composeRefusal(e);
        await load();  // the list shows the draft as saved now
        return;
      }
      showRefusal(e);
    }
  });

  // Every field the API refused, marked at its control at once in the page's language (the
  // first one focused), as the sequence builder does; the banner says the one refusal, or
  // how many there are, and whatever names no control of the form.
  function showRefusal(e) {
    const all = e.fields.length ? e.fields
      : [{ field: e.field, message: e.message, reason: e.reason, limits: e.limits }];
    const toCommunities = (f) => (f.field || "").startsWith("community_ids");
    const community = all.filter(toCommunities);
    const others = all.filter((f) => !toCommunities(f)).map((f) => ({ ...f, message: fieldWords(f) }))
      .sort((a, b) => formOrder(a.field) - formOrder(b.field));  // the first focused is the highest
    const unplaced = markFields(compose, { fields: others });
    const placed = others.filter((f) => !unplaced.includes(f));
    if (community.length) communityRefused(community[0], placed.length === 0);
    const marked = placed.length + community.length;
    const banner = unplaced.map(composeRefusal);
    if (marked === 1 && placed.length) banner.unshift(composeRefusal(placed[0]));
    if (marked > 1) banner.unshift(fill(T.broadcasts_errors_at, { n: marked }));
    document.getElementById("compose-error").textContent = banner.join(" ");
  }

  // The page's words for a refusal's reason, or null: the field's own first, as one reason
  // reads differently per field (`too_short`: list a customer, or pick a community).
  function pageWords(e) {
    if (!e.reason) return null;
    const field = (e.field || "").split(".")[0];
    const template = T[`broadcasts_refused_${field}_${e.reason}`] || T["broadcasts_refused_" + e.reason];
    return template ? fill(template, e.limits || {}) : null;
  }

  // A refusal's words beside its field (which the field's label already names); a customer
  // id not found is named from the list typed.
  function fieldWords(f) {
    const words = pageWords(f);
    if (words) return words;
    const n = /^customer_ids\.(\d+)$/.exec(f.field || "");
    const typed = n && compose.customer_ids.value.split(/[\s,]+/).filter(Boolean)[Number(n[1])];
    return typed ? fill(T.broadcasts_refused_unknown_customer, { id: typed }) : f.message;
  }

  // Where a field's control is in the form, top to bottom (an unknown field last).
  const FORM_ORDER = ["name", "segment_id", "customer_ids", "community_ids", "message.text.en",
    "message.text.zh", "message", "channels", "send_at", "send_by"];
  function formOrder(field) {
    const at = FORM_ORDER.findIndex((name) => field === name || (field || "").startsWith(name + "."));
    return at === -1 ? FORM_ORDER.length : at;
  }

  // A refusal of the draft in the page's language when the API said why, after the field
  // at fault by its label ("Text in Chinese", not `message.text.zh`).
  function composeRefusal(e) {
    if (e.reason === "changed") return T.broadcasts_refused_changed;  // the draft, not a field
    const text = /^message\.text\.(\w+)$/.exec(e.field || "");
    const field = text ? T["broadcasts_text_" + text[1]] || e.field
      : (e.field && T["broadcasts_field_" + e.field.split(".")[0]]) || e.field;
    const why = pageWords(e) || e.message;
    return field ? fill(T.broadcasts_refused_field, { field, why }) : why;
  }

  // Next to the picker, in the page's language when the API said why; the community at
  // fault (`community_ids.<n>`) is named and its box focused (unless a field above it was).
  const communitiesError = document.getElementById("communities-error");
  function communityRefused(e, focus = true) {
    const why = pageWords(e) || e.message;
    const n = /^community_ids\.(\d+)$/.exec(e.field);
    const picked = [...compose.querySelectorAll("input[name=community_id]:checked")];
    const culprit = n ? picked[Number(n[1])] : null;
    communitiesError.textContent = culprit ? communityTitle(culprit.value) + T.colon + why : why;
    const first = culprit || compose.querySelector("input[name=community_id]:not(:disabled)");
    if (focus) (first || compose.community_filter).focus();
  }

  const compose = document.getElementById("compose");
  document.getElementById("stop-editing").addEventListener("click", () => {
    stopEditing();
    compose.name.focus();
  });

  // The reach estimate of the audience and channels as the form has them, before saving.
  // Its answer (or refusal) is of the fields as they were when asked: a new attempt (another
  // estimate, a save) or an edit of a field it counted takes it away, never left beside
  // fields that no longer read so. Only the latest question's answer is shown.
  const estimateOut = document.querySelector("#compose-estimate .estimate");
  let estimateErred = false;
  let estimateAsked = 0;
  function showEstimate(text, erred = false) {
    estimateOut.textContent = text;
    estimateErred = erred;
  }
  async function estimateCompose() {
    const body = {
      channels: pickedChannels(),
      send_by: isoOrNull(compose.send_by.value),
    };
    if (compose.segment_id.value) body.segment_id = compose.segment_id.value;
    else body.customer_ids = compose.customer_ids.value.split(/[\s,]+/).filter(Boolean);
    const asked = ++estimateAsked;
    showEstimate(T.broadcasts_estimating);
    try {
      const e = await api("POST", "/broadcasts/estimate", body);
      if (asked === estimateAsked) showEstimate(estimateText(e));
    } catch (e) {
      if (asked === estimateAsked) showEstimate(composeRefusal(e), true);
    }
  }
  document.getElementById("estimate-do").addEventListener("click", estimateCompose);
  compose.segment_id.addEventListener("change", () => {
    if (compose.segment_id.value) estimateCompose();
    else forgetEstimate();
  });
  function forgetEstimate() {
    estimateAsked++;  // an answer still on its way is of the fields before this edit
    showEstimate("");
  }
  for (const name of ["customer_ids", "send_by"]) {
    compose.elements[name].addEventListener("input", forgetEstimate);
  }
  document.getElementById("channel-picker").addEventListener("change", forgetEstimate);

  // A field refused by the last save, edited since: its mark and its words beside it go (the
  // others stay marked until the next save says again). The channels are one field: a tick
  // on any of their boxes clears theirs.
  compose.addEventListener("input", (event) => {
    const box = event.target.closest("[data-field]");
    if (!box) return;
    const marked = box.matches("[aria-invalid=true]") ? [box] : [...box.querySelectorAll("[aria-invalid=true]")];
    if (!marked.length) return;
    const slots = [...compose.querySelectorAll(`[data-error-for="${CSS.escape(box.dataset.field)}"]`)];
    for (const control of marked) {
      control.removeAttribute("aria-invalid");
      for (const id of (control.getAttribute("aria-describedby") || "").split(/\s+/)) {
        const slot = id && document.getElementById(id);
        if (slot) slots.push(slot);
      }
    }
    for (const slot of slots) if (slot.classList.contains("field-error")) slot.textContent = "";
  });

  // The channel types ticked, in the order offered (the order a customer is tried on them).
  function pickedChannels() {
    return [...compose.querySelectorAll("input[name=channel]:checked")].map((box) => box.value);
  }

  // A draft's channels ticked; one the workspace no longer has is offered too, ticked and
  // said so, so that saving the draft keeps it unless it is unticked.
  function pickChannels(wanted) {
    const offered = new Set();
    for (const box of compose.querySelectorAll("input[name=channel]")) {
      box.checked = wanted.includes(box.value);
      offered.add(box.value);
    }
    const list = document.getElementById("channel-choices");
    for (const type of wanted.filter((t) => !offered.has(t))) {
      const name = fill(T.broadcasts_channel_not_here, { name: T["channel_type_" + type] || type });
      list.append(h("label", { class: "choice not-here" }, h("input", {
        type: "checkbox", name: "channel", value: type, checked: true, "aria-describedby": "channels-error",
      }), " ", name));
    }
  }

  // Customers (a segment or ids, on the channels listed) or communities (each on its own).
  function showAudience() {
    const toCommunities = compose.audience.value === "communities";
    for (const [id, on] of [["to-customers", !toCommunities], ["by-channels", !toCommunities],
      ["to-communities", toCommunities]]) {
      const set = document.getElementById(id);
      set.hidden = !on;
      set.disabled = !on;
    }
    document.getElementById("help-customers").hidden = toCommunities;
    document.getElementById("help-communities").hidden = !toCommunities;
    document.getElementById("compose-estimate").hidden = toCommunities;
    communitiesError.textContent = "";
    countPicked();
  }
  for (const radio of compose.querySelectorAll("input[name=audience]")) {
    radio.addEventListener("change", showAudience);
  }

  function countPicked() {
    const n = compose.querySelectorAll("input[name=community_id]:checked").length;
    document.getElementById("communities-picked").textContent =
      T.broadcasts_communities_picked.replace("{n}", n);
  }

  compose.community_filter.addEventListener("input", () => {
    const wanted = compose.community_filter.value.trim().toLowerCase();
    for (const item of document.querySelectorAll("#community-picker li")) {
      item.hidden = Boolean(wanted) && !item.dataset.search.includes(wanted);
    }
  });

  function communityItem(c) {
    const members = T.broadcasts_members.replace("{n}", c.member_count);
    const meta = [platformName(c.platform), members, c.can_post ? null : T.broadcasts_bot_left]
      .filter(Boolean).join(" · ");
    const box = h("input", { type: "checkbox", name: "community_id", value: c.id,
      disabled: !c.can_post, onchange: countPicked });
    return h("li", { dataset: { search: `${c.title} ${c.platform}`.toLowerCase() } },
      h("label", {}, box, h("span", {}, c.title), h("span", { class: "meta" }, meta)));
  }

  async function segments() {
    const picker = document.getElementById("segment-picker");
    const found = await api("GET", "/broadcast-audiences");
    for (const s of found) segmentNames.set(s.id, s.name);
    picker.append(...found.map((s) => h("option", { value: s.id }, s.name + fill(T.in_parens, { text: s.size ?? "?" }))));
  }

  async function communities() {
    const found = await api("GET", "/broadcast-communities");
    for (const c of found) communityChoices.set(c.id, c);
    document.getElementById("community-picker").replaceChildren(...found.map(communityItem));
    document.getElementById("no-communities").hidden = found.length > 0;
    countPicked();
  }

  showAudience();
  Promise.all([segments(), communities()]).catch((e) => say(e.message))
    .then(() => load()).catch((e) => say(e.message));
  setInterval(() => load().catch(() => {}), 5000);
})();

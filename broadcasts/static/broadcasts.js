// The Broadcasts page: list with stats, compose a draft, preview, and move between states.
"use strict";

(() => {
  const { T, api, h } = window.KithDom;
  const rows = document.getElementById("broadcast-rows");
  if (!rows) return;
  const notice = document.getElementById("notice");
  const MOVES = {
    draft: ["schedule", "cancel"],
    scheduled: ["pause", "cancel"],
    sending: ["pause", "cancel"],
    paused: ["resume", "cancel"],
    done: [],
    cancelled: [],
  };
  let shown = null;

  const say = (text) => { notice.textContent = text; };
  const skippedTotal = (stats) => Object.values(stats.skipped).reduce((a, b) => a + b, 0);

  async function load() {
    const page = await api("GET", "/broadcasts?limit=100");
    rows.replaceChildren(...page.items.map(row));
    document.getElementById("no-broadcasts").hidden = page.items.length > 0;
    if (shown) {
      const again = page.items.find((b) => b.id === shown.id);
      if (again) showStats(again, false);
    }
  }

  function row(b) {
    const buttons = MOVES[b.status].map((move) =>
      h("button", { type: "button", onclick: () => act(b, move) }, T["broadcasts_do_" + move]));
    buttons.push(h("button", { type: "button", onclick: () => showStats(b, true) }, T.broadcasts_open));
    return h("tr", { dataset: { id: b.id } },
      h("th", { scope: "row" }, b.name),
      h("td", {}, T["broadcasts_state_" + b.status]),
      h("td", {}, b.stats.targeted),
      h("td", {}, b.stats.sent),
      h("td", {}, b.stats.delivered),
      h("td", {}, skippedTotal(b.stats)),
      h("td", { class: "actions" }, buttons));
  }

  async function act(b, move) {
    try {
      const moved = await api("POST", `/broadcasts/${b.id}/${move}`);
      say(`${moved.name}: ${T["broadcasts_state_" + moved.status]}`);
    } catch (error) {
      say(error.message);
    }
    await load();
  }

  function showStats(b, focus) {
    shown = b;
    const section = document.getElementById("stats");
    section.hidden = false;
    document.getElementById("stats-heading").textContent = `${b.name} · ${T["broadcasts_state_" + b.status]}`;
    const figures = [
      ["targeted", b.stats.targeted], ["sent", b.stats.sent], ["delivered", b.stats.delivered],
      ["failed", b.stats.failed], ["replied", b.stats.replied],
      ["unsubscribed", b.stats.unsubscribed], ["held", b.stats.held],
    ];
    const items = figures.flatMap(([key, value]) =>
      [h("dt", {}, T["broadcasts_" + key]), h("dd", {}, value)]);
    for (const [reason, count] of Object.entries(b.stats.skipped)) {
      items.push(h("dt", {}, `${T.broadcasts_skipped}: ${T["broadcasts_reason_" + reason] || reason}`),
        h("dd", {}, count));
    }
    document.getElementById("stats-figures").replaceChildren(...items);
    const select = document.querySelector("#preview-form select");
    select.replaceChildren(h("option", { value: "" }, T.broadcasts_preview_any),
      ...b.channels.map((c) => h("option", { value: c }, c)));
    if (focus) section.querySelector("input").focus();
  }

  document.getElementById("preview-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const error = document.getElementById("preview-error");
    const out = document.getElementById("preview-out");
    error.textContent = "";
    try {
      const body = { customer_id: form.customer_id.value.trim() };
      if (form.channel.value) body.channel = form.channel.value;
      const p = await api("POST", `/broadcasts/${shown.id}/preview`, body);
      const where = p.decision === "go" ? `${p.channel_type}` : `${T["broadcasts_decision_" + p.decision]}: ${p.reason}`;
      out.textContent = `${where} · ${p.language}\n\n${p.text ?? p.error}`;
    } catch (e) {
      error.textContent = e.message;
    }
  });

  function isoOrNull(value) {
    return value ? new Date(value).toISOString() : null;
  }

  document.getElementById("compose").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const error = document.getElementById("compose-error");
    error.textContent = "";
    const text = {};
    if (form.text_en.value.trim()) text.en = form.text_en.value;
    if (form.text_zh.value.trim()) text.zh = form.text_zh.value;
    const body = {
      name: form.name.value,
      message: { text },
      channels: form.channels.value.split(",").map((c) => c.trim()).filter(Boolean),
      send_at: isoOrNull(form.send_at.value),
      send_by: isoOrNull(form.send_by.value),
    };
    if (form.segment_id.value) body.segment_id = form.segment_id.value;
    else body.customer_ids = form.customer_ids.value.split(/[\s,]+/).filter(Boolean);
    try {
      const made = await api("POST", "/broadcasts", body);
      say(`${made.name}: ${T.broadcasts_state_draft}`);
      form.reset();
      await load();
    } catch (e) {
      error.textContent = e.field ? `${e.field}: ${e.message}` : e.message;
      const named = e.field && form.querySelector(`[name="${e.field.replace("message.text.", "text_").split(".")[0]}"]`);
      if (named) named.focus();
    }
  });

  async function segments() {
    const picker = document.getElementById("segment-picker");
    const found = await api("GET", "/broadcast-audiences");
    picker.append(...found.map((s) => h("option", { value: s.id }, `${s.name} (${s.size ?? "?"})`)));
  }

  segments().catch((e) => say(e.message));
  load().catch((e) => say(e.message));
  setInterval(() => load().catch(() => {}), 5000);
})();

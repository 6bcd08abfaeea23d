// The Sequences list: each sequence with its status, version and figures, and its moves.
"use strict";

(() => {
  const { T, api, h, say } = window.KithDom;
  const rows = document.getElementById("sequence-rows");
  if (!rows) return;
  const more = document.getElementById("list-more");
  const MOVES = { draft: ["activate", "archive"], active: ["pause", "archive"],
    paused: ["activate", "archive"], archived: [] };
  let next = null;

  // A name stored blank before names were checked still reads as something (a link with no
  // text is nothing to a screen reader).
  const named = (s) => (s.name || "").trim() || T.sequences_unnamed;

  // A paused sequence's "activate" resumes it, and says so; a draft's activates it.
  const said = (s, move) => T[s.status === "paused" && move === "activate" ? "sequences_do_resume" : "sequences_do_" + move];

  async function row(s) {
    const stats = await api("GET", `/sequences/${encodeURIComponent(s.id)}/stats`);
    const buttons = MOVES[s.status].map((move) => h("button", {
      type: "button", "aria-label": `${said(s, move)}${T.colon}${named(s)}`,
      onclick: () => act(s, move),
    }, said(s, move)));
    return h("tr", { dataset: { id: s.id } },
      h("th", { scope: "row" }, h("a", { href: `/app/sequences/${encodeURIComponent(s.id)}` }, named(s))),
      h("td", {}, T["sequences_state_" + s.status]),
      h("td", {}, s.version),
      h("td", {}, stats.enrolled), h("td", {}, stats.active), h("td", {}, stats.completed),
      h("td", { class: "actions" }, buttons));
  }

  async function act(s, move) {
    try {
      const moved = await api("POST", `/sequences/${encodeURIComponent(s.id)}/${move}`);
      say(`${named(moved)}${T.colon}${T["sequences_state_" + moved.status]}`);
    } catch (error) {
      say(error.message, { error: true });
    }
    await load(true);
  }

  async function load(fresh) {
    const query = new URLSearchParams({ limit: "25" });
    if (!fresh && next) query.set("cursor", next);
    const page = await api("GET", `/sequences?${query}`);
    const made = await Promise.all(page.items.map(row));
    if (fresh) rows.replaceChildren(...made);
    else rows.append(...made);
    next = page.next_cursor;
    more.hidden = !next;
    document.getElementById("no-sequences").hidden = rows.children.length > 0;
  }

  more.addEventListener("click", () => load(false).catch((e) => say(e.message)));
  load(true).catch((e) => say(e.message));
})();

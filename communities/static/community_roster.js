// A community page's roster search: what the manager types asks the roster for whoever matches
// (a name in any case, or a platform id; `GET …/members?q=`, in the status the page shows),
// a quarter second after the last key, or at once on Enter. Only the newest question's answer
// is shown, and how many matched is said politely; an emptied box brings the page's own rows
// (and its pages) back. Every string goes in as text.
"use strict";

(() => {
  const { T, answer, h, fill, dateTime, searchAsTyped } = window.KithDom;
  const data = document.getElementById("community-data");
  const find = document.getElementById("roster-find");
  if (!data || !find) return;
  const community = JSON.parse(data.textContent);
  const status = document.getElementById("roster-search").dataset.status;
  const table = document.getElementById("roster");
  const scroll = document.getElementById("roster-scroll");
  const empty = document.getElementById("no-members");
  const pages = document.getElementById("roster-pages");
  const result = document.getElementById("roster-find-result");
  const own = [...table.tBodies[0].rows].map((row) => row.cloneNode(true));

  const moment = (at) => (at ? h("time", { datetime: at }, dateTime(at)) : "");

  // A stay's link as the page words it: Kith's invite link by name and owner, else the
  // platform's name for it.
  function viaText(span) {
    const link = span.link;
    if (link && link.name && link.owner) return fill(T.communities_via_link, { link: link.name, owner: link.owner });
    if (link && link.owner) return fill(T.communities_via_owner, { owner: link.owner });
    if (link && link.name) return link.name;
    return span.via;
  }

  function stay(span) {
    const parts = [`${T.communities_joined} `, moment(span.joined_at)];
    if (span.via) parts.push(` · ${T.communities_via} ${viaText(span)}`);
    if (span.left_at) parts.push(` – ${span.removed ? T.communities_removed : T.communities_left} `, moment(span.left_at));
    return h("li", {}, parts);
  }

  function row(m) {
    const state = m.awaiting_rules ? T.communities_state_rules : T[`communities_state_${m.status}`];
    return h("tr", { dataset: { member: m.platform_user_id } },
      h("th", { scope: "row" }, h("a", { href: `/app/contacts/${encodeURIComponent(m.customer_id)}` }, m.name || m.platform_user_id)),
      h("td", {}, T[`communities_role_${m.role}`]),
      h("td", {}, state),
      h("td", {}, h("ul", { class: "plain-list history" }, [...m.spans].reverse().map(stay))),
      h("td", {}, String(m.message_count)),
      h("td", {}, moment(m.last_spoke_at)));
  }

  function showRows(rows, searching) {
    table.tBodies[0].replaceChildren(...rows);
    scroll.hidden = !rows.length;
    empty.hidden = Boolean(rows.length);
    if (pages) pages.hidden = searching;
  }

  searchAsTyped(find, {
    ask: async (q) => (await answer("GET", `/communities/${encodeURIComponent(community.id)}/members?limit=50`
      + `&status=${encodeURIComponent(status)}&q=${encodeURIComponent(q)}`)).data,
    show: (found, q) => {
      showRows(found.items.map(row), true);
      result.textContent = found.items.length
        ? fill(T.communities_roster_found, { n: found.items.length })
        : fill(T.communities_roster_found_none, { q });
    },
    fail: (error) => { result.textContent = error.message; },
    cleared: () => {
      const searching = Boolean(result.textContent);
      showRows(own.map((r) => r.cloneNode(true)), false);
      result.textContent = searching ? T.communities_roster_find_cleared : "";
    },
  });
})();

// A community page's invite links: copy a link (its text is selected, so a keyboard user can
// also copy it themselves), and make one for a member (POST …/invite-links: 201 when made,
// 200 when that member already had a link of that name, the same link). The new or found
// link's row is shown and its copy button focused; a refusal is shown at every field it
// names, in the page's language.
"use strict";

(() => {
  const { T, answer, h, say, fill, dateTime, markFields, searchAsTyped } = window.KithDom;
  const data = document.getElementById("community-data");
  if (!data) return;
  const community = JSON.parse(data.textContent);
  const table = document.getElementById("invite-links");
  const form = document.getElementById("invite");

  async function copy(button) {
    const field = button.parentElement.querySelector("input");
    field.focus();
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      say(T.communities_invite_copied);
    } catch {
      say(T.communities_invite_copy_failed);  // selected: Ctrl+C copies it
    }
  }

  table?.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-copy]");
    if (button) copy(button);
  });

  function linkBox(url, label) {
    return h("span", { class: "link-box" },
      h("input", { type: "text", readonly: true, value: url, "aria-label": label, spellcheck: "false" }), " ",
      h("button", { type: "button", dataset: { copy: "" },
        "aria-label": fill(T.communities_invite_copy_label, { link: label }) }, T.communities_invite_copy));
  }

  function limits(invite) {
    const parts = [];
    if (invite.member_limit) parts.push(fill(T.communities_invite_up_to, { n: invite.member_limit }));
    if (invite.expire_at) parts.push(`${T.communities_invite_until} ${dateTime(invite.expire_at)}`);
    if (!parts.length) return h("span", { class: "muted" }, T.communities_invite_no_limits);
    return parts.flatMap((p, n) => (n ? [h("br"), p] : [p]));
  }

  // The invite's row as the page renders it (every string a text node or an attribute).
  function row(invite, owner) {
    const links = [];
    if (invite.invite_link) links.push(linkBox(invite.invite_link, fill(T.communities_invite_group_link, { name: owner })));
    if (invite.deep_link) links.push(linkBox(invite.deep_link, fill(T.communities_invite_bot_link, { name: owner })));
    if (invite.wechat_qr) links.push(linkBox(invite.wechat_qr.url, fill(T.communities_invite_wechat_link, { name: owner })));
    if (!links.length) links.push(h("span", { class: "muted" }, T.communities_invite_no_link));
    return h("tr", { dataset: { invite: invite.id } },
      h("th", { scope: "row" }, h("a", { href: `/app/contacts/${encodeURIComponent(invite.customer_id)}` }, owner)),
      h("td", {}, invite.name),
      h("td", { class: "links" }, links),
      h("td", {}, limits(invite)),
      h("td", {}, h("time", { datetime: invite.created_at }, dateTime(invite.created_at))));
  }

  function clear() {
    document.getElementById("invite-error").textContent = "";
    markFields(form, null);
    for (const slot of form.querySelectorAll("[data-error-for]")) slot.removeAttribute("role");
  }

  // One refused field's words: the page's own where it says it better than the server.
  function wording(error, each) {
    if (each.field === "customer_id" && !form.customer_id.value) return T.communities_invite_choose_first;
    if (each.reason === "expire_past") return T.communities_invite_expire_past;
    if (each.reason === "no_customer") return T.communities_invite_no_customer;
    if (each.reason && T[`communities_reason_${each.reason}`]) return T[`communities_reason_${each.reason}`];
    if (each.field !== error.field) return each.message;
    if (error.status === 409) return T.communities_invite_refused;
    return each.message;
  }

  // Every refused field at its control, with that control's label (the first one focused);
  // what names no control of the form is said in the form's box.
  function blame(error) {
    const fields = error.fields && error.fields.length ? error.fields : [{ field: error.field, message: error.message }];
    const placed = [];
    const elsewhere = [];
    for (const each of fields) {
      const text = wording(error, each);
      const control = each.field && form.querySelector(`[data-field="${CSS.escape(each.field)}"]`);
      if (!control) elsewhere.push(text);
      else placed.push({ ...each, message: fill(T.communities_refused_at, { field: control.labels[0].textContent.trim(), error: text }) });
    }
    markFields(form, { fields: placed });
    for (const each of placed) form.querySelector(`[data-error-for="${CSS.escape(each.field)}"]`)?.setAttribute("role", "alert");
    if (elsewhere.length) document.getElementById("invite-error").textContent = elsewhere.join(" ");
    if (!placed.length) form.querySelector("button[type=submit]").focus();
  }

  // The member picker: the page lists the latest members to join, newest first; what the
  // manager types in its search asks the roster for whoever matches (a name in any case, or a
  // platform id), listed by name as people read it ("Visitor 2" before "Visitor 10"). Only the
  // newest question's answer is shown; Enter there searches at once, it makes no link.
  function memberSearch() {
    const select = form.customer_id;
    const result = document.getElementById("invite-find-result");
    const latest = [...select.options].map((o) => o.cloneNode(true));
    const byName = new Intl.Collator(document.documentElement.lang || undefined, { numeric: true, sensitivity: "base" });
    const named = (m) => m.name || m.platform_user_id;
    searchAsTyped(document.getElementById("invite-find"), {
      ask: async (q) => (await answer("GET",
        `/communities/${encodeURIComponent(community.id)}/members?limit=50&q=${encodeURIComponent(q)}`)).data,
      show: (found, q) => {
        const sorted = [...found.items].sort((a, b) => byName.compare(named(a), named(b)));
        select.replaceChildren(...sorted.map((m) => h("option", { value: m.customer_id }, named(m))));
        result.textContent = found.items.length
          ? fill(T.communities_invite_found, { n: found.items.length })
          : fill(T.communities_invite_found_none, { q });
      },
      fail: (error) => { result.textContent = error.message; },
      cleared: () => {
        select.replaceChildren(...latest.map((o) => o.cloneNode(true)));
        result.textContent = "";
      },
    });
  }
  if (form) memberSearch();

  let busy = false;
  form?.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;  // one request at a time: a second Enter waits for the first answer
    clear();
    say("");
    // A name as typed (the server trims it, and refuses spaces alone at the field); none: left out.
    const body = { customer_id: form.customer_id.value };
    if (form.name.value !== "") body.name = form.name.value;
    if (form.member_limit.value !== "") body.member_limit = Number(form.member_limit.value);
    if (form.expire_at.value) body.expire_at = new Date(form.expire_at.value).toISOString();
    const owner = form.customer_id.selectedOptions[0]?.textContent || body.customer_id;
    busy = true;
    try {
      const path = `/communities/${encodeURIComponent(community.id)}/invite-links`;
      const { data: invite, status } = await answer("POST", path, body);  // 201: made now
      const shown = row(invite, owner);
      const before = table.querySelector(`tr[data-invite="${CSS.escape(invite.id)}"]`);
      if (before) before.replaceWith(shown);
      else table.tBodies[0].prepend(shown);
      document.getElementById("invite-links-scroll").hidden = false;  // the table's scroll box
      document.getElementById("no-invites").hidden = true;
      say(fill(status === 201 ? T.communities_invite_made : T.communities_invite_existed, { name: owner }));
      (shown.querySelector("button[data-copy]") || shown.querySelector("a")).focus();
      form.name.value = "";
      form.member_limit.value = "";
      form.expire_at.value = "";
    } catch (e) {
      blame(e);
    } finally {
      busy = false;
    }
  });
})();

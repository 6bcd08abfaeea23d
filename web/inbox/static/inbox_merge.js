// The customer panel's "Merge with…": find another customer (the Contacts search, within what
// this agent may see), confirm, and fold them into the customer on the panel, which then
// reloads (inbox.js listens for `kith:customer-changed`).
"use strict";

(() => {
  const { T, api, h, fill } = window.KithDom;
  const $ = (id) => document.getElementById(id);
  let current = null; // the panel's customer, as inbox.js last loaded it
  let picked = null;
  let timer = null;

  const label = (c) => c.name || c.emails[0] || c.phones[0] || c.id;
  // What tells a customer apart from one of the same name: an email, a phone, a channel id.
  const apart = (c) => c.emails[0] || c.phones[0] || ((c.identities || [])[0] || {}).external_id || c.id;
  const named = (c, twin) => (label(c) === label(twin) ? label(c) + fill(T.in_parens, { text: apart(c) }) : label(c));

  function reset() {
    picked = null;
    $("merge-confirm").hidden = true;
    $("merge-results").replaceChildren();
    $("merge-q").value = "";
  }

  async function find() {
    const q = $("merge-q").value.trim();
    if (!q || !current) {
      $("merge-results").replaceChildren();
      return;
    }
    const asked = current.id;
    const page = await api("GET", "/contacts?" + new URLSearchParams({ q, limit: "8" }));
    if (!current || current.id !== asked || $("merge-q").value.trim() !== q) return;
    const others = page.items.filter((c) => c.id !== current.id);
    $("merge-results").replaceChildren(...(others.length
      ? others.map((c) => h("li", {}, h("button", { type: "button", onclick: () => choose(c) },
        [label(c), ...c.emails.slice(0, 1), ...c.phones.slice(0, 1)].join(" · "))))
      : [h("li", {}, T.merge_none)]));
  }

  function choose(other) {
    picked = other;
    $("merge-question").textContent = fill(T.merge_question,
      { other: named(other, current), customer: named(current, other) });
    $("merge-confirm").hidden = false;
    $("merge-yes").focus();
  }

  async function merge() {
    if (!picked || !current) return;
    const names = { other: named(picked, current), customer: named(current, picked) };
    $("merge-yes").disabled = true;
    try {
      await api("POST", `/customers/${encodeURIComponent(current.id)}/merge`, { other_id: picked.id });
      reset();
      $("merge-status").textContent = fill(T.merge_done, names);
      document.dispatchEvent(new CustomEvent("kith:customer-changed"));
    } catch (err) {
      $("merge-status").textContent = err.message;
    } finally {
      $("merge-yes").disabled = false;
    }
  }

  document.addEventListener("kith:customer", (e) => {
    if (current && current.id !== e.detail.id) {
      reset();
      $("merge-status").textContent = "";
    }
    current = e.detail;
  });
  document.addEventListener("DOMContentLoaded", () => {
    if (document.body.dataset.role === "marketer") $("merge").hidden = true;
    $("merge-search").addEventListener("submit", (e) => { e.preventDefault(); find().catch(() => {}); });
    $("merge-q").addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => find().catch(() => {}), 200);
    });
    $("merge-yes").addEventListener("click", () => merge());
    $("merge-no").addEventListener("click", () => { picked = null; $("merge-confirm").hidden = true; $("merge-q").focus(); });
  });
})();

// The Webhooks page: endpoints, subscribing one (its secret shown once), the delivery log
// of one endpoint with redelivery, and one delivery in full (body, headers, each attempt).
// Everything a receiver or a customer wrote goes in as text (KithDom.h), never as HTML.
"use strict";

(() => {
  const { T, api, h, say, fill, dateTime, settled, redrawRows } = window.KithDom;
  const rows = document.getElementById("endpoint-rows");
  if (!rows) return;
  const when = (iso) => (iso ? h("time", { datetime: iso }, dateTime(iso)) : "");
  const LABELS = { url: T.webhooks_url, events: T.webhooks_events, description: T.webhooks_description };
  let shown = null; // the endpoint whose log is open
  let cursor = null;
  const armed = new Set(); // endpoints whose Delete was pressed once: the next press deletes

  // Asked again every 5 s: a row that reads as before stays the element it was, so a click
  // pressed across the refresh lands, focus stays, and an armed Delete stays armed.
  async function load() {
    const page = await api("GET", "/webhooks");
    await settled();
    redrawRows(rows, page.items.map(row));
    document.getElementById("no-endpoints").hidden = page.items.length > 0;
  }

  function row(e) {
    const state = e.enabled ? T.webhooks_enabled : `${T.webhooks_disabled}${T.colon}${offWhy(e)}`;
    // Each button says which endpoint it acts on: a screen reader's list of buttons reads
    // "Delete: https://…", not five rows of "Delete".
    const button = (action, words, onclick) => h("button", {
      type: "button", "aria-label": `${words}${T.colon}${e.url}`, dataset: { action }, onclick,
    }, words);
    const remove = button("delete", armed.has(e.id) ? T.webhooks_delete_confirm : T.webhooks_delete);
    if (armed.has(e.id)) remove.dataset.armed = "1";
    remove.addEventListener("click", async () => {
      if (!armed.has(e.id)) {
        armed.add(e.id);
        remove.dataset.armed = "1";
        remove.textContent = T.webhooks_delete_confirm;
        remove.setAttribute("aria-label", `${T.webhooks_delete_confirm}${T.colon}${e.url}`);
        return;
      }
      armed.delete(e.id);
      await act(() => api("DELETE", `/webhooks/${e.id}`), T.webhooks_deleted);
      if (shown && shown.id === e.id) closeLog();
    });
    return h("tr", { dataset: { id: e.id }, class: e.enabled ? null : "disabled" },
      h("th", { scope: "row" }, e.url, e.description ? h("div", { class: "hint" }, e.description) : null),
      h("td", {}, e.events.join(", ")),
      h("td", { class: e.enabled ? null : "state-disabled" }, state),
      h("td", { class: "actions" },
        button("log", T.webhooks_open_log, () => openLog(e)),
        e.enabled ? button("test", T.webhooks_test, () => sendTest(e)) : null,
        button("rotate", T.webhooks_rotate, () => rotate(e)),
        button("toggle", e.enabled ? T.webhooks_disable : T.webhooks_enable, () => toggle(e)),
        remove));
  }

  // Why a delivery failed, or why an endpoint is off, in the page's language (the API's
  // English where the page lacks the words).
  function errorWhy(wording, english) {
    const template = wording && T["webhooks_error_" + wording.key];
    return template ? fill(template, wording.values) : english || "";
  }

  function offWhy(e) {
    const off = e.off;
    const template = off && T["webhooks_off_" + off.key];
    if (!template) return e.disabled_reason || "";
    const values = off.values || {};
    const last = values.error ? errorWhy({ key: values.error, values: {
      seconds: values.error_seconds, status: values.error_status } }, "") : "";
    return fill(template, { since: values.since ? dateTime(values.since) : "", error: last });
  }

  // The log opens on the test and follows it for a few seconds, until it is answered.
  async function sendTest(e) {
    let made;
    try {
      made = await api("POST", `/webhooks/${e.id}/test`);
      say(T.webhooks_test_sent);
    } catch (error) {
      say(error.message, { error: true });
      return;
    }
    await openLog(e);
    for (let tries = 0; tries < 15 && shown === e; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const items = await loadLog(false);
      if (!items.some((d) => d.id === made.id && d.status === "pending")) return;
    }
  }

  async function act(call, done) {
    try {
      await call();
      say(done);
    } catch (error) {
      say(error.message, { error: true });
    }
    await load();
  }

  function showSecret(secret) {
    const box = document.getElementById("secret-box");
    box.hidden = false;
    const input = document.getElementById("secret-value");
    input.value = secret;
    input.focus();
    input.select();
  }

  document.getElementById("secret-done").addEventListener("click", () => {
    document.getElementById("secret-value").value = "";
    document.getElementById("secret-box").hidden = true;
    document.querySelector("#create input[name=url]").focus();
  });

  async function rotate(e) {
    try {
      const made = await api("POST", `/webhooks/${e.id}/rotate-secret`);
      showSecret(made.secret);
      say(T.webhooks_rotated);
    } catch (error) {
      say(error.message, { error: true });
    }
  }

  const toggle = (e) => act(() => api("PATCH", `/webhooks/${e.id}`, { enabled: !e.enabled }),
    e.enabled ? T.webhooks_disabled_kept : T.webhooks_enabled_replayed);

  function closeLog() {
    shown = null;
    document.getElementById("log").hidden = true;
    closeDelivery(false);
  }

  async function openLog(e) {
    shown = e;
    const section = document.getElementById("log");
    section.hidden = false;
    const heading = document.getElementById("log-heading");
    heading.textContent = `${T.webhooks_log}${T.colon}${e.url}`;
    await loadLog(false);
    heading.focus();
  }

  async function loadLog(more) {
    if (!shown) return [];
    const query = more && cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
    const page = await api("GET", `/webhooks/${shown.id}/deliveries${query}`);
    await settled();
    const body = document.getElementById("delivery-rows");
    const made = page.items.map(deliveryRow);
    if (more) body.append(...made);
    else redrawRows(body, made);  // every 5 s while open: as the endpoints' rows
    cursor = page.next_cursor;
    document.getElementById("more-deliveries").hidden = !cursor;
    document.getElementById("no-deliveries").hidden = body.children.length > 0;
    return page.items;
  }

  function deliveryRow(d) {
    return h("tr", { dataset: { id: d.id } },
      h("th", { scope: "row" }, h("code", {}, d.type), h("div", { class: "hint" }, when(d.created_at))),
      h("td", { class: "state-" + d.status }, T["webhooks_status_" + d.status] || d.status),
      h("td", {}, d.attempts),
      h("td", {}, d.response_status ?? ""),
      h("td", {}, d.latency_ms === null ? "" : `${d.latency_ms} ms`),
      h("td", {}, when(d.next_attempt_at)),
      h("td", {}, errorWhy(d.error, d.last_error)),
      h("td", { class: "actions" },
        h("button", { type: "button", "aria-label": `${T.webhooks_details}${T.colon}${d.type}`,
          dataset: { details: d.id, action: "details" }, onclick: () => openDelivery(d.id) }, T.webhooks_details),
        h("button", { type: "button", "aria-label": `${T.webhooks_redeliver}${T.colon}${d.type}`,
          dataset: { action: "redeliver" }, onclick: () => redeliver(d) }, T.webhooks_redeliver)));
  }

  // One delivery in full. `opened` is the delivery shown; closing returns focus to its
  // Details button in the log.
  let opened = null;
  const section = () => document.getElementById("delivery");

  async function openDelivery(id) {
    let d;
    try {
      d = await api("GET", `/webhooks/${shown.id}/deliveries/${id}`);
    } catch (error) {
      say(error.message, { error: true });
      return;
    }
    opened = { endpoint: shown.id, id };
    showDelivery(d);
    section().hidden = false;
    document.getElementById("delivery-heading").focus();
  }

  function showDelivery(d) {
    document.getElementById("delivery-heading").textContent =
      fill(T.webhooks_delivery_heading, { type: d.type, id: d.id });
    const status = document.getElementById("delivery-status");
    status.className = "state-" + d.status;
    status.textContent = (T["webhooks_status_" + d.status] || d.status) +
      (d.sending ? fill(T.in_parens, { text: T.webhooks_sending }) : "");
    document.getElementById("delivery-attempts").textContent = d.attempts;
    document.getElementById("delivery-next").replaceChildren(
      d.next_attempt_at ? when(d.next_attempt_at) : T.webhooks_no_next);
    document.getElementById("delivery-body").textContent = JSON.stringify(d.payload, null, 2);
    const list = document.getElementById("delivery-attempts-list");
    const attempts = d.attempt_log.map((a, i) => attemptBlock(a, i + 1 + d.attempts - d.attempt_log.length,
      i === d.attempt_log.length - 1));
    list.replaceChildren(...attempts.reverse());  // latest first, open
    document.getElementById("delivery-no-attempts").hidden = attempts.length > 0;
    // Sent again by hand, as from its row in the log: a failed delivery, one waiting for its
    // next retry or one delivered; never one a worker is sending (the API would refuse it:
    // 409) nor one queued and not yet tried.
    const again = document.getElementById("delivery-redeliver");
    again.hidden = d.sending || (d.status === "pending" && d.attempts === 0);
  }

  function attemptBlock(a, number, latest) {
    const answer = a.response_status === null ? errorWhy(a.error_wording, a.error)
      : `HTTP ${a.response_status}`;
    const took = a.latency_ms === null ? "" : ` · ${a.latency_ms} ms`;
    const headers = Object.entries(a.request_headers).map(([name, value]) =>
      h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, value)));
    const body = a.response_body === null ? h("p", { class: "hint" }, T.webhooks_no_answer_body)
      : h("pre", { class: "wire", tabindex: "0", "aria-label": T.webhooks_response_body },
        a.response_body + (a.response_truncated ? `\n${T.webhooks_truncated}` : ""));
    return h("details", { class: "attempt", open: latest },
      h("summary", {}, fill(T.webhooks_attempt_n, { n: number }), " · ", when(a.at), ` · ${answer}${took}`),
      h("h4", {}, T.webhooks_request_headers),
      h("table", { class: "grid headers", "aria-label": T.webhooks_request_headers }, h("tbody", {}, headers)),
      h("h4", {}, T.webhooks_response_body),
      body);
  }

  function closeDelivery(refocus) {
    const was = opened;
    opened = null;
    section().hidden = true;
    if (!refocus || !was) return;
    const button = document.querySelector(`#delivery-rows button[data-details="${CSS.escape(was.id)}"]`);
    (button || document.getElementById("log-heading")).focus();
  }

  document.getElementById("delivery-close").addEventListener("click", () => closeDelivery(true));
  section().addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeDelivery(true);
  });

  // Redelivered from the details: they follow it for a few seconds, until it is answered.
  document.getElementById("delivery-redeliver").addEventListener("click", async () => {
    const was = opened;
    if (!was) return;
    try {
      await api("POST", `/webhooks/${was.endpoint}/deliveries/${was.id}/redeliver`);
      say(T.webhooks_redelivering);
    } catch (error) {
      say(error.message, { error: true });
      return;
    }
    document.getElementById("delivery-heading").focus();
    for (let tries = 0; tries < 15 && opened === was; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const d = await api("GET", `/webhooks/${was.endpoint}/deliveries/${was.id}`);
      if (opened !== was) return;
      showDelivery(d);
      await loadLog(false);
      if (d.status !== "pending") return;
    }
  });

  async function redeliver(d) {
    try {
      await api("POST", `/webhooks/${shown.id}/deliveries/${d.id}/redeliver`);
      say(T.webhooks_redelivering);
    } catch (error) {
      say(error.message, { error: true });
    }
    await loadLog(false);
  }

  document.getElementById("more-deliveries").addEventListener("click", () =>
    loadLog(true).catch((e) => say(e.message)));

  // The browser's own checks (a URL's form) stop a submit before it happens: the previous
  // answer's error must not stay beside a form it no longer describes.
  document.getElementById("create").addEventListener("invalid", () => {
    document.getElementById("create-error").textContent = "";
  }, true);

  window.KithDom.once(document.getElementById("create"), async (event) => {  // one per double Enter
    const form = event.target;
    const error = document.getElementById("create-error");
    error.textContent = "";
    say("");
    const body = {
      url: form.url.value.trim(),
      events: [...form.querySelectorAll("input[name=events]:checked")].map((c) => c.value),
      description: form.description.value,
    };
    try {
      const made = await api("POST", "/webhooks", body);
      form.reset();
      await load();
      showSecret(made.secret);
      say(T.webhooks_created);
    } catch (e) {
      // The API's words are already the page's (KithDom words a refusal by its `reason`); the
      // field it names is called by its label here.
      const top = e.field && e.field.split(".")[0];
      error.textContent = top ? `${LABELS[top] || e.field}${T.colon}${e.message}` : e.message;
      const named = top && form.querySelector(`[name="${top}"]`);
      if (named) named.focus();
    }
  });

  load().catch((e) => say(e.message));
  setInterval(() => {
    load().catch(() => {});
    if (shown && !cursor) loadLog(false).catch(() => {});
  }, 5000);
})();

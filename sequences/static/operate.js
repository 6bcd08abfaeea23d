// A saved sequence's operations: activate / pause / archive, enrol a segment (a job whose
// progress shows in a bar) or customer ids, the enrolments (remove one) and the dry run.
"use strict";

(() => {
  const { T, api, h, say, confirmed, fill, worded, customerChoice, settled, redrawRows, dateTime: when } = window.KithDom;
  const detailed = (name, detail) => fill(T.sequences_with_detail, { name, detail });
  const data = JSON.parse(document.getElementById("sequence-data").textContent);
  if (!data) return;
  const base = `/sequences/${encodeURIComponent(data.id)}`;
  const status = document.getElementById("sequence-status");
  const ALLOWED = { draft: ["activate", "archive"], active: ["pause", "archive"],
    paused: ["activate", "archive"], archived: [] };
  const reason = (r) => (r ? T["sequences_reason_" + r] || r : "");
  const enrolError = document.getElementById("enrol-error");

  function showStatus(value) {
    status.dataset.status = value;
    status.textContent = T["sequences_state_" + value];
    for (const button of document.querySelectorAll("#moves button")) {
      button.disabled = !ALLOWED[value].includes(button.dataset.move);
      // The same move resumes a paused sequence and activates a draft: said as what it does.
      if (button.dataset.move === "activate") {
        button.textContent = value === "paused" ? T.sequences_do_resume : T.sequences_do_activate;
      }
    }
  }

  // A refused move (409 `transition_refused`, someone else moved it first) in the page's
  // words, from where the sequence is and the moves left (`limits`); its buttons follow.
  function refusal(error) {
    if (error.reason !== "transition_refused" || !error.limits) return error.message;
    const state = (s) => T["sequences_state_" + s] || s;
    const allowed = (error.limits.allowed || []).map(state);
    if (ALLOWED[error.limits.status]) showStatus(error.limits.status);
    return (allowed.length ? T.sequences_refused : T.sequences_refused_none)
      .replace("{status}", state(error.limits.status))
      .replace("{allowed}", allowed.join(document.body.dataset.locale === "zh" ? "、" : ", "));
  }

  // A move that succeeds also clears an enrolment's refusal: it answered the status before.
  for (const button of document.querySelectorAll("#moves button")) {
    button.addEventListener("click", async () => {
      say("");
      try {
        const moved = await api("POST", `${base}/${button.dataset.move}`);
        showStatus(moved.status);
        enrolError.textContent = "";
        say(`${moved.name}${T.colon}${T["sequences_state_" + moved.status]}`);
      } catch (error) {
        say(refusal(error));
      }
    });
  }

  // ---- the webhook signing key: made or replaced on demand, shown this once ----------------

  document.getElementById("new-key").addEventListener("click", async () => {
    if (!(await confirmed(`${T.new_webhook_key_confirm} ${data.name}`))) return;
    say("");
    try {
      const { webhook_secret } = await api("POST", `${base}/webhook-secret`);
      const value = document.getElementById("key-value");
      value.value = webhook_secret;
      document.getElementById("key-shown").hidden = false;
      value.focus();
      value.select();
      say(T.sequences_webhook_key_made);
    } catch (error) {
      say(error.message, { error: true });
    }
  });

  // ---- enrolling ----------------------------------------------------------------------------

  async function followJob(job) {
    const bar = document.getElementById("enrol-progress");
    const text = document.getElementById("enrol-progress-text");
    document.getElementById("enrol-job").hidden = false;
    for (;;) {
      const total = job.progress.total ?? 0;
      bar.max = Math.max(total, 1);
      bar.value = job.progress.done;
      text.textContent = `${job.progress.done} / ${total || "?"} · ${T["sequences_job_" + job.status] || job.status}`;
      if (["done", "failed", "cancelled"].includes(job.status)) break;
      await new Promise((resolve) => { setTimeout(resolve, 500); });
      const response = await fetch(`/api/v1/jobs/${encodeURIComponent(job.id)}`, { credentials: "same-origin" });
      if (!response.ok) throw new Error(T.error);
      job = await response.json();
    }
    const counts = Object.entries(job.result).map(([k, n]) => `${T["sequences_outcome_" + k] || k}${T.colon}${n}`);
    text.textContent += counts.length ? ` · ${counts.join(T.list_separator)}` : "";
    await loadEnrolments(true);
  }

  document.getElementById("enrol-segment").addEventListener("submit", async (event) => {
    event.preventDefault();
    enrolError.textContent = "";
    const segment = event.target.segment_id.value;
    if (!segment) return;
    try {
      const job = await api("POST", `${base}/enrolments`, { segment_id: segment });
      await followJob(job);
    } catch (error) {
      document.getElementById("enrol-job").hidden = true;  // not an earlier job's progress
      enrolError.textContent = error.message;
    }
  });

  document.getElementById("enrol-ids").addEventListener("submit", async (event) => {
    event.preventDefault();
    enrolError.textContent = "";
    const ids = event.target.customer_ids.value.split(/[\s,]+/).filter(Boolean);
    if (!ids.length) return;
    const results = document.getElementById("enrol-results");
    results.replaceChildren();  // not the last ids' outcomes beside this attempt's refusal
    try {
      const answer = await api("POST", `${base}/enrolments`, { customer_ids: ids });
      results.replaceChildren(...answer.results.map((r) =>
        h("li", {}, r.customer_id, T.colon, r.reason
          ? detailed(T["sequences_outcome_" + r.outcome] || r.outcome, reason(r.reason))
          : T["sequences_outcome_" + r.outcome] || r.outcome)));
      event.target.reset();
      await loadEnrolments(true);
    } catch (error) {
      enrolError.textContent = error.message;
    }
  });

  async function segments() {
    const picker = document.getElementById("segment-picker");
    const found = await api("GET", "/broadcast-audiences");
    picker.replaceChildren(...found.map((s) => h("option", { value: s.id }, detailed(s.name, s.size ?? "?"))));
  }

  // ---- enrolments ---------------------------------------------------------------------------

  const rows = document.getElementById("enrolment-rows");
  const more = document.getElementById("enrolments-more");
  let next = null;

  function enrolmentRow(e) {
    const remove = e.state === "active" && h("button", { type: "button", class: "danger",
      onclick: async () => {
        try {
          await api("DELETE", `${base}/enrolments/${encodeURIComponent(e.id)}`);
          say(`${e.customer_name || e.customer_id}${T.colon}${T.sequences_reason_removed}`);
        } catch (error) {
          say(error.message, { error: true });
        }
        await loadEnrolments(true);
        more.focus();
      } }, T.sequences_remove);
    return h("tr", { dataset: { id: e.id, customer: e.customer_id, state: e.state } },
      h("th", { scope: "row" },
        h("a", { href: `/app/contacts/${encodeURIComponent(e.customer_id)}` },
          e.customer_name || e.customer_id)),
      h("td", {}, T["sequences_enrolment_" + e.state] || e.state),
      h("td", {}, e.step_id || ""),
      h("td", {}, e.state === "active" ? when(e.due_at) : when(e.finished_at)),
      h("td", {}, reason(e.reason)),
      h("td", { class: "actions" }, remove));
  }

  async function loadEnrolments(fresh) {
    const state = document.getElementById("enrolment-state").value;
    const query = new URLSearchParams({ limit: "25" });
    if (state) query.set("state", state);
    if (!fresh && next) query.set("cursor", next);
    const page = await api("GET", `${base}/enrolments?${query}`);
    await settled();
    const made = page.items.map(enrolmentRow);
    if (fresh) redrawRows(rows, made);  // every 5 s: an unchanged row keeps a click on it
    else rows.append(...made);
    next = page.next_cursor;
    more.hidden = !next;
    document.getElementById("no-enrolments").hidden = rows.children.length > 0;
  }

  more.addEventListener("click", () => loadEnrolments(false).catch((e) => say(e.message)));
  document.getElementById("enrolment-state").addEventListener("change",
    () => loadEnrolments(true).catch((e) => say(e.message)));

  // ---- dry run ------------------------------------------------------------------------------

  const dryForm = document.getElementById("dry-run");
  const dryTable = document.getElementById("dry-table");
  customerChoice(dryForm.customer_search, dryForm.customer_id, document.getElementById("dry-found"),
    () => { dryTable.hidden = true; });  // not the last customer's plan

  // Why a step went as it did, in the page's words (the server's `reason` is English).
  function dryReason(s) {
    const why = [];
    if (s.until) why.push(fill(T.sequences_dry_until, { until: when(s.until) }));
    if (s.held_for) {
      const held = T["broadcasts_reason_" + s.held_for] || s.held_for;
      why.push(fill(T.sequences_dry_held, { why: held, until: when(s.held_until) }));
    }
    if (s.skip_reason) why.push(reason(s.skip_reason));
    if (s.branch_why) {
      const since = T["sequences_since_" + s.since] || s.since;
      why.push(fill(T["sequences_dry_branch_" + s.branch_why] || s.reason, { since }));
    }
    return why.join(T.sequences_dry_and);
  }

  // What a send would say to this customer, or why its template fails for them.
  function dryText(s) {
    if (!s.sent) return "";
    const r = s.sent;
    return r.text ?? worded({ message: r.error, reason: r.error_reason, limits: r.error_limits });
  }

  function dryRow(s) {
    const outcome = T["sequences_dry_" + s.outcome] || s.outcome;
    return h("tr", {}, h("th", { scope: "row" }, detailed(s.step_id, T["sequences_type_" + s.type] || s.type)),
      h("td", {}, when(s.at)),
      h("td", {}, [outcome, s.channel_type].filter(Boolean).join(" · ")),
      h("td", {}, dryReason(s)),
      h("td", { class: "dry-text" }, dryText(s)));
  }

  dryForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("dry-error");
    error.textContent = "";
    try {
      const plan = await api("POST", `${base}/dry-run`, { customer_id: dryForm.customer_id.value });
      document.getElementById("dry-rows").replaceChildren(...plan.steps.map(dryRow));
      document.getElementById("dry-caption").textContent = fill(
        plan.truncated ? T.sequences_dry_caption_cut : T.sequences_dry_caption, { zone: plan.timezone });
      dryTable.hidden = false;
    } catch (e) {
      dryTable.hidden = true;  // not the last customer's plan
      error.textContent = e.message;
    }
  });

  showStatus(data.status);
  segments().catch((e) => say(e.message));
  loadEnrolments(true).catch((e) => say(e.message));
  setInterval(() => { if (!next) loadEnrolments(true).catch(() => {}); }, 5000);
})();

// The Contacts page: search and filters (sent as a segment filter), cursor pages, export as
// CSV or Excel and import of either (a job followed to the end), merge suggestions and
// undoable merges. Customer text only ever reaches the page through text nodes and
// attributes (KithDom.h).
"use strict";

(() => {
  const { T, api, h, once, say: notice, dateTime: when, newestOnly } = window.KithDom;
  const body = document.body;
  const $ = (id) => document.getElementById(id);
  const manage = body.dataset.canManage === "true";
  const locale = body.dataset.locale === "zh" ? "zh-CN" : "en";
  const state = {
    contacts: null, suggestions: null, merges: null, query: new URLSearchParams(), listError: null,
  };

  const fmt = (template, values) =>
    template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
  // The name the team calls them by (`shown_name`: name, else email, then phone, as the
  // inbox does), else "Customer 7F3A" from the end of their id.
  const nameOf = (c) => c.shown_name || c.name || window.KithDom.unnamed(c.id);

  // The form's choices as one segment filter ({"all": [...]}), or null when none is set.
  function segmentFilter(form) {
    const f = Object.fromEntries(new FormData(form).entries());
    const all = [];
    const tag = (f.tag || "").trim();
    if (tag) all.push({ field: "tags", op: "contains", value: tag });
    const key = (f.attr_key || "").trim();
    if (key) {
      const value = (f.attr_value || "").trim();
      all.push(value ? { field: "attributes." + key, op: "eq", value }
        : { field: "attributes." + key, op: "exists", value: true });
    }
    if (f.channel) all.push({ field: "channels", op: "contains", value: f.channel });
    if (f.consent_channel && f.consent_state) {
      all.push({ field: "consent." + f.consent_channel, op: "eq", value: f.consent_state });
    }
    if (f.sentiment === "negative") all.push({ field: "sentiment.trend", op: "lt", value: -0.3 });
    if (f.sentiment === "positive") all.push({ field: "sentiment.trend", op: "gt", value: 0.3 });
    if (f.activity) {
      const [kind, days] = f.activity.split(":");
      const op = kind === "within" ? "within_days" : "older_than_days";
      all.push({ field: "last_seen_at", op, value: Number(days) });
    }
    return all.length ? { all } : null;
  }

  // "Consent" says something only with a channel ("Consent on"): without one it is Any and
  // disabled, so it never looks like a filter that is not applied; with one it starts at Any.
  function syncConsent() {
    const form = $("contact-filters");
    const state = form.elements.consent_state;
    const off = !form.elements.consent_channel.value;
    if (off) state.value = "";
    state.disabled = off;
    $("consent-state-hint").hidden = !off;
  }

  // "Attribute value" filters only with an attribute named: without one it is disabled (what
  // was typed stays, unused), so a value alone never looks like a filter that is applied.
  function syncAttribute() {
    const form = $("contact-filters");
    const off = !form.elements.attr_key.value.trim();
    form.elements.attr_value.disabled = off;
    $("attr-value-hint").hidden = !off;
  }

  function readForm() {
    const form = $("contact-filters");
    const query = new URLSearchParams();
    const q = form.elements.q.value.trim();
    if (q) query.set("q", q);
    const filter = segmentFilter(form);
    if (filter) query.set("filter", JSON.stringify(filter));
    state.query = query;
    const exported = query.toString();
    $("export").href = body.dataset.exportUrl + (exported ? "?" + exported : "");
    $("export-xlsx").href = body.dataset.exportXlsxUrl + (exported ? "?" + exported : "");
  }

  function contactRow(c) {
    return h("tr", {},
      h("th", { scope: "row" }, h("a", { href: "/app/contacts/" + encodeURIComponent(c.id) }, nameOf(c))),
      h("td", {}, c.emails.join(", ")),
      h("td", {}, c.phones.join(", ")),
      h("td", {}, c.channels.map((type) => T["contacts_channel_" + type] || type).join(", ")),
      h("td", {}, c.tags.map((tag) => h("span", { class: "tag" }, tag)), " "),
      h("td", {}, h("time", { datetime: c.last_seen }, when(c.last_seen))));
  }

  // Only the newest request's page is drawn: a search sent before the first list has come
  // never shows under the unfiltered answer that lands after it.
  const contactsTurn = newestOnly();
  async function loadContacts(more = false) {
    const query = new URLSearchParams(state.query);
    if (more && state.contacts) query.set("cursor", state.contacts);
    const current = contactsTurn();
    try {
      const page = await api("GET", "/contacts?" + query.toString());
      if (!current()) return;
      if (!more) $("contacts").replaceChildren();
      $("contacts").append(...page.items.map(contactRow));
      state.contacts = page.next_cursor;
      $("more-contacts").hidden = !page.next_cursor;
      $("no-contacts").hidden = $("contacts").children.length > 0;
      // Clear only this list's own earlier failure, never another action's notice ("Merged").
      if (state.listError !== null && $("notice").textContent === state.listError) notice("");
      state.listError = null;
    } catch (err) {
      if (!current()) return;
      state.listError = err.message;
      notice(err.message);
    }
  }

  // ---- import: post the file, then follow the job until it ends ----------------------------

  // An .xlsx goes as Excel's content type (the server reads its first sheet), anything else as CSV.
  const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  const fileType = (file) => (/\.xlsx$/i.test(file.name) ? XLSX : "text/csv");

  // The job's warnings: columns left out, and rows imported without some of their cells.
  const ROW_WARNINGS = ["extra_cells", "extra_cells_more"];
  const columnWarnings = (warnings) => warnings.filter((w) => !ROW_WARNINGS.includes(w.code));
  const rowWarnings = (warnings) => warnings.filter((w) => ROW_WARNINGS.includes(w.code));

  // What the job did so far: rows created, updated, failed, blank, and columns left out.
  function showCounts(job) {
    const counts = [
      [T.contacts_import_created, job.result.created || 0],
      [T.contacts_import_updated, job.result.updated || 0],
      [T.contacts_import_failed, job.result.failed || 0],
      [T.contacts_import_skipped, job.result.skipped || 0],
      [T.contacts_import_ignored, columnWarnings(job.warnings || []).length],
    ];
    const warned = rowWarnings(job.warnings || []).length;
    if (warned) counts.push([T.contacts_import_warned, warned]);
    $("import-counts").replaceChildren(...counts.flatMap(([term, n]) => [h("dt", {}, term), h("dd", {}, String(n))]));
    $("import-counts").hidden = false;
  }

  // The file's columns no field takes, each with why (the API's words for a code we lack).
  function showIgnored(all) {
    const warnings = columnWarnings(all);
    const rows = rowWarnings(all);
    $("import-warnings").replaceChildren(...rows.map((w) => h("tr", {},
      h("td", {}, w.row ?? "…"),
      h("td", {}, T["contacts_warning_" + w.code] ? fmt(T["contacts_warning_" + w.code], w.params || {}) : w.message))));
    $("import-warnings-table").hidden = rows.length === 0;
    $("import-ignored").replaceChildren(...warnings.map((w) => h("tr", {},
      h("td", {}, w.column || T.contacts_import_unnamed),
      h("td", {}, T["contacts_ignored_" + w.code] || w.message))));
    $("import-ignored-table").hidden = warnings.length === 0;
  }

  // A row's error in the page's language by its code; a list or region in the params is
  // worded by the browser (the API's words for a code we lack).
  const lists = new Intl.ListFormat(locale, { type: "conjunction" });
  const regions = new Intl.DisplayNames(locale, { type: "region" });
  const regionName = (code) => {
    try { return regions.of(code) || code; } catch { return code; }  // not a region code
  };
  function rowError(e) {
    const template = T["contacts_row_error_" + e.code];
    if (!template) return e.message;
    const values = Object.fromEntries(Object.entries(e.params || {}).map(([key, value]) => [key,
      Array.isArray(value) ? lists.format(value.map(String))
        : key === "region" ? regionName(String(value)) : value]));
    return fmt(template, values);
  }

  async function followJob(url) {
    for (;;) {
      const response = await fetch(url, { credentials: "same-origin" });
      const job = await response.json();
      if (!response.ok) throw new Error((job.error && job.error.message) || T.error);
      const total = job.progress.total || 0;
      $("import-progress").max = Math.max(total, 1);
      $("import-progress").value = job.progress.done;
      const status = T["contacts_job_" + job.status] || job.status;
      $("import-status").textContent = fmt(T.contacts_import_status,
        { status, done: job.progress.done, total }) + (job.error ? " " + job.error : "");
      showCounts(job);
      showIgnored(job.warnings || []);
      $("import-errors").replaceChildren(...job.errors.map((e) =>
        h("tr", {}, h("td", {}, e.row ?? ""), h("td", {}, e.column || ""), h("td", {}, rowError(e)))));
      $("import-errors-table").hidden = job.errors.length === 0;
      if (!["queued", "running"].includes(job.status)) return job;
      await new Promise((done) => setTimeout(done, 1000));
    }
  }

  // A size in bytes as the page's language writes it ("64 MB", "4,096 字节").
  function fileSize(bytes) {
    const [unit, n] = bytes >= 1048576 ? ["megabyte", bytes / 1048576]
      : bytes >= 1024 ? ["kilobyte", bytes / 1024] : ["byte", bytes];
    return new Intl.NumberFormat(locale, { style: "unit", unit, maximumFractionDigits: 1,
      unitDisplay: unit === "byte" ? "long" : "short" }).format(n);
  }

  // Why the file was refused as a whole (not text, not CSV, too large, no column maps …), in
  // the page's language by its `reason` (the API's words for a reason we lack).
  function refusal(error) {
    const template = error.reason && T["contacts_file_" + error.reason];
    const limits = { ...(error.limits || {}) };
    if (typeof limits.max_bytes === "number") limits.size = fileSize(limits.max_bytes);
    return template ? fmt(template, limits) : error.message || T.error;
  }

  // ---- the mapping step: when the file has columns no field takes, each of its columns
  // with a select (Kith's fields, a custom attribute, or ignore), prefilled with what an
  // import without a mapping would do; the import then sends the choices as `mapping`.
  const CUSTOM = "attributes.";
  const ATTRIBUTE_KEY = /^[A-Za-z0-9_\-\u0080-\uffff]{1,64}$/;
  const REPEATABLE = ["email", "phone", "tags"];
  // `seen`: the step's answer was on the page before Import was pressed (a press that comes
  // first must not import past a step the user has not seen).
  const step = { preview: null, columns: [], seen: false };

  function targetName(target) {
    if (target.startsWith("consent.")) {
      const type = target.slice("consent.".length);
      return fmt(T.contacts_map_consent, { channel: T["contacts_channel_" + type] || type });
    }
    return T["contacts_map_target_" + target] || target;
  }

  function mappingRow(column, targets) {
    const id = "import-map-" + column.index;
    const custom = (column.target || "").startsWith(CUSTOM);
    const guess = column.header.trim().toLowerCase().replace(/\s+/g, "_");
    const select = h("select", { id, "data-column": column.header },
      h("option", { value: "" }, T.contacts_map_ignore),
      targets.map((t) => h("option", { value: t }, targetName(t))),
      h("option", { value: CUSTOM }, T.contacts_map_custom));
    select.value = custom ? CUSTOM : column.target || "";
    const key = h("input", { type: "text", maxlength: "64", class: "map-key",
      value: custom ? column.target.slice(CUSTOM.length) : ATTRIBUTE_KEY.test(guess) ? guess : "",
      "aria-label": fmt(T.contacts_map_key_for, { column: column.header }), hidden: !custom });
    select.addEventListener("change", () => { key.hidden = select.value !== CUSTOM; });
    const why = column.code ? h("span", { class: "hint" }, T["contacts_ignored_" + column.code] || column.message) : null;
    return h("tr", {},
      h("th", { scope: "row" }, h("label", { for: id }, column.header)),
      h("td", {}, select, " ", key),
      h("td", {}, why));
  }

  // Ask the server how it reads the file (charset, columns, its guesses); show the step
  // when a named column is left out. Answers whether the step is shown.
  async function previewFile(form) {
    $("import-mapping").hidden = true;
    $("import-mapping-rows").replaceChildren();
    step.columns = [];
    const file = form.elements.file.files[0];
    if (!file) return false;
    const response = await fetch(body.dataset.importUrl + "?preview=true", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": fileType(file), "X-CSRF-Token": body.dataset.csrf },
      body: file,
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(refusal(answer.error || {}));
    const seen = new Set();  // a header twice: the mapping names the first
    step.columns = answer.columns.filter((c) => c.header && !seen.has(c.header) && seen.add(c.header));
    if (!step.columns.some((c) => c.target === null)) return false;
    $("import-mapping-rows").replaceChildren(...step.columns.map((c) => mappingRow(c, answer.targets)));
    $("import-mapping").hidden = false;
    return true;
  }

  // The step's choices as a mapping, or an error naming the control at fault.
  function chosenMapping() {
    const mapping = {};
    const taken = {};
    for (const select of $("import-mapping-rows").querySelectorAll("select")) {
      const column = select.dataset.column;
      let target = select.value;
      if (!target) continue;
      if (target === CUSTOM) {
        const key = select.parentElement.querySelector(".map-key");
        const name = key.value.trim();
        if (!ATTRIBUTE_KEY.test(name)) {
          return { control: key, message: fmt(T.contacts_map_bad_key, { column }) };
        }
        target = CUSTOM + name;
      }
      if (taken[target] && !REPEATABLE.includes(target)) {
        return { control: select, message: fmt(T.contacts_map_taken, { column, other: taken[target] }) };
      }
      taken[target] = column;
      mapping[column] = target;
    }
    if (!Object.keys(mapping).length) {
      const first = $("import-mapping-rows").querySelector("select");
      return { control: first, message: T.contacts_map_nothing };
    }
    return { mapping };
  }

  function changedMapping() {
    return step.columns.some((c) => {
      const select = document.getElementById("import-map-" + c.index);
      if (!select) return false;
      if (select.value !== CUSTOM) return select.value !== (c.target || "");
      const key = select.parentElement.querySelector(".map-key").value.trim();
      return CUSTOM + key !== c.target;
    });
  }

  function preview(form) {
    step.seen = false;
    step.preview = previewFile(form).then((shown) => {
      step.seen = true;
      return shown;
    }, (err) => {
      form.querySelector(".form-error").textContent = err.message;
      return null;
    });
    return step.preview;
  }

  function choseFile() {
    const form = $("import");
    form.querySelector(".form-error").textContent = "";
    preview(form);
  }

  async function startImport() {
    const form = $("import");
    const error = form.querySelector(".form-error");
    const file = form.elements.file.files[0];
    if (!file) return;
    const seen = step.seen;
    const shown = await (step.preview || preview(form));
    if (shown === null) return;  // the file was refused: the reason is shown
    if (shown && !seen) {  // the step has just appeared: let them check it first
      error.textContent = T.contacts_map_check_first;
      $("import-mapping-rows").querySelector("select").focus();
      return;
    }
    error.textContent = "";
    let url = body.dataset.importUrl;
    // Left as guessed, the step is the import without a mapping (whose warnings say why
    // each column is left out); a choice changed sends them all as the mapping.
    if (shown && changedMapping()) {
      const chosen = chosenMapping();
      if (!chosen.mapping) {
        error.textContent = chosen.message;
        chosen.control.focus();
        return;
      }
      url += "?mapping=" + encodeURIComponent(JSON.stringify(chosen.mapping));
    }
    try {
      const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": fileType(file), "X-CSRF-Token": body.dataset.csrf },
        body: file,
      });
      const job = await response.json();
      if (!response.ok) throw new Error(refusal(job.error || {}));
      $("import-job").hidden = false;
      await followJob(body.dataset.jobsUrl + encodeURIComponent(job.id));
      await loadContacts();
    } catch (err) {
      error.textContent = err.message;
    }
  }

  // ---- merge suggestions and merges ------------------------------------------------------

  function suggestionItem(s) {
    const group = "keep-" + s.id;
    const choices = s.customers.map((c, i) => h("label", { class: "choice" },
      h("input", { type: "radio", name: group, value: c.id, checked: i === 0 }),
      " ", h("a", { href: "/app/contacts/" + encodeURIComponent(c.id) }, nameOf(c)),
      " · ", c.channels.map((type) => T["contacts_channel_" + type] || type).join(", "),
      " · ", T.contacts_last_seen, " ", when(c.last_seen)));
    const item = h("li", { class: "suggestion" },
      h("strong", {}, T["contacts_key_" + s.key] || s.key), T.colon, h("span", {}, s.value),
      h("fieldset", {}, h("legend", {}, T.contacts_keep), choices));
    const keep = () => item.querySelector(`input[name="${group}"]:checked`).value;
    const merge = async () => {
      const survivor = keep();
      try {
        for (const other of s.customers.map((c) => c.id).filter((id) => id !== survivor)) {
          await api("POST", `/contacts/merge-suggestions/${encodeURIComponent(s.id)}/merge`,
            { survivor_id: survivor, other_id: other });
        }
        notice(T.contacts_merged);
        const at = placeOf(item);
        await Promise.all([loadSuggestions(), loadMerges(), loadContacts()]);
        focusAfter("suggestions", at, "button.primary");
      } catch (err) {
        notice(err.message);
      }
    };
    const dismiss = async () => {
      try {
        await api("POST", `/contacts/merge-suggestions/${encodeURIComponent(s.id)}/dismiss`);
        notice(T.contacts_dismissed);
        const at = placeOf(item);
        await loadSuggestions();
        focusAfter("suggestions", at, "button.primary");
      } catch (err) {
        notice(err.message);
      }
    };
    item.append(h("div", { class: "buttons" },
      h("button", { type: "button", class: "primary", onclick: merge,
        "aria-label": T.contacts_merge + T.colon + s.value }, T.contacts_merge),
      h("button", { type: "button", onclick: dismiss,
        "aria-label": T.contacts_dismiss + T.colon + s.value }, T.contacts_dismiss)));
    return item;
  }

  async function loadSuggestions(more = false) {
    const query = more && state.suggestions ? "?cursor=" + encodeURIComponent(state.suggestions) : "";
    const page = await api("GET", "/contacts/merge-suggestions" + query);
    if (!more) $("suggestions").replaceChildren();
    $("suggestions").append(...page.items.map(suggestionItem));
    state.suggestions = page.next_cursor;
    $("more-suggestions").hidden = !page.next_cursor;
    $("no-suggestions").hidden = $("suggestions").children.length > 0;
  }

  // Where a list's item was, so that focus can go to what took its place once the list is
  // drawn anew (not to <body>): the item now there, else the last one, else the list's heading.
  const placeOf = (item) => [...item.parentElement.children].indexOf(item);

  function focusAfter(listId, at, selector) {
    const items = $(listId).children;
    const there = items[Math.min(at, items.length - 1)];
    const target = there && there.querySelector(selector);
    if (target) {
      target.focus();
      return;
    }
    const heading = $(listId + "-heading");
    heading.tabIndex = -1;
    heading.focus();
  }

  function mergeItem(m) {
    const other = nameOf({ shown_name: m.other_name, id: m.other_id });
    const line = fmt(T.contacts_merge_line, {
      other,
      survivor: nameOf({ shown_name: m.survivor_name, id: m.survivor_id }),
      actor: (m.actor && m.actor.name) || m.actor.kind,
    });
    const undo = async () => {
      try {
        const report = await api("POST", `/contacts/merges/${encodeURIComponent(m.id)}/undo`);
        notice(report.kept_on_survivor.length
          ? fmt(T.contacts_undo_kept, { fields: report.kept_on_survivor.join(", ") })
          : T.contacts_undo_done);
        const at = placeOf(row);
        await Promise.all([loadSuggestions(), loadMerges(), loadContacts()]);
        focusAfter("merges", at, "a");
      } catch (err) {
        notice(err.message);
      }
    };
    const row = h("li", {},
      h("time", { datetime: m.created_at }, when(m.created_at)),
      h("a", { href: "/app/contacts/" + encodeURIComponent(m.survivor_id) }, line), " ",
      m.undone_at ? h("span", { class: "tag" }, T.contacts_undone)
        : h("button", { type: "button", onclick: undo,
          "aria-label": T.contacts_undo + T.colon + other }, T.contacts_undo));
    return row;
  }

  async function loadMerges(more = false) {
    const query = more && state.merges ? "?cursor=" + encodeURIComponent(state.merges) : "";
    const page = await api("GET", "/contacts/merges" + query);
    if (!more) $("merges").replaceChildren();
    $("merges").append(...page.items.map(mergeItem));
    state.merges = page.next_cursor;
    $("more-merges").hidden = !page.next_cursor;
    $("no-merges").hidden = $("merges").children.length > 0;
  }

  async function start() {
    const form = $("contact-filters");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      readForm();
      loadContacts();
    });
    form.addEventListener("reset", () => setTimeout(() => { syncConsent(); syncAttribute(); readForm(); loadContacts(); }));
    form.elements.consent_channel.addEventListener("change", syncConsent);
    form.elements.attr_key.addEventListener("input", syncAttribute);
    syncConsent();  // a browser may restore the form's choices on Back
    syncAttribute();
    $("more-contacts").addEventListener("click", () => loadContacts(true));
    readForm();
    const loads = [loadContacts()];
    if (manage) {
      $("import").elements.file.addEventListener("change", choseFile);
      once($("import"), startImport);
      $("more-suggestions").addEventListener("click", () => loadSuggestions(true).catch((e) => notice(e.message)));
      $("more-merges").addEventListener("click", () => loadMerges(true).catch((e) => notice(e.message)));
      loads.push(loadSuggestions(), loadMerges());
    }
    await Promise.all(loads);
    body.dataset.ready = "true";
  }

  start().catch((err) => notice(err.message));
})();

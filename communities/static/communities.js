// A community's page: save its settings (PATCH, each section whole, so fields this form does
// not show keep their values; per-language texts only in the languages it shows), save its
// moderation (the section and its rules in one PATCH: all taken or all refused, every
// refusal shown at the control it names), lift an action of its moderation log, approve or
// decline a join request, and post a message into it (a community broadcast, scheduled).
"use strict";

(() => {
  const { T, api, say, once, fill, dateTime } = window.KithDom;
  const data = document.getElementById("community-data");
  if (!data) return;
  let community = JSON.parse(data.textContent);

  function read(control) {
    const kind = control.dataset.kind;
    if (kind === "bool") return control.checked;
    if (kind === "int") return control.value === "" ? null : Number(control.value);
    if (kind === "lines") return control.value.split("\n").map((l) => l.trim()).filter(Boolean);
    return control.value;
  }

  // Per-language texts merge by language on the server: only the languages this form shows
  // are sent (the others stay as they are), an emptied one as null, which removes it.
  function patchOf(form) {
    const patch = {};
    const started = new Set();
    for (const control of form.querySelectorAll("[data-name]")) {
      const { section, name, kind, lang } = control.dataset;
      patch[section] = patch[section] || { ...community[section] };
      if (kind === "texts") {
        if (!started.has(`${section}.${name}`)) {
          started.add(`${section}.${name}`);
          patch[section][name] = {};
        }
        patch[section][name][lang] = control.value.trim() ? control.value : null;
      } else {
        patch[section][name] = read(control);
      }
    }
    return patch;
  }

  // A post's name: the group and the time by Kith's clock (the demo's, when it runs fast),
  // written as the page writes dates.
  function postName() {
    const at = new Date(window.KithClock ? window.KithClock.now() : Date.now());
    return `${community.title || community.platform_chat_id} · ${dateTime(at.toISOString())}`;
  }

  function clear(form, box) {
    say("");
    box.textContent = "";
    for (const slot of form.querySelectorAll("[data-error-for]")) {
      slot.textContent = "";
      slot.removeAttribute("role");
    }
    for (const bad of form.querySelectorAll("[aria-invalid]")) bad.removeAttribute("aria-invalid");
  }

  // What the page calls a control: its label's own words (not a textarea's text), or its
  // fieldset's legend; inside a settings section or a moderation rule, that name first.
  function labelOf(named) {
    const own = (node) => [...node.childNodes]
      .filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join("").trim();
    const label = named.closest("label");
    const legend = named.matches("fieldset") ? named.querySelector(":scope > legend") : null;
    const name = label ? own(label) : legend ? legend.textContent.trim() : "";
    const group = named.parentElement.closest("fieldset[data-rule], fieldset[data-section]");
    const groupName = group ? group.querySelector(":scope > legend").textContent.trim() : "";
    return [groupName, name].filter(Boolean).join(" · ");
  }

  // A refusal in the page's words: every bad RE2 line (which line, what is wrong) from the
  // limits the API gave, a placeholder the text does not fill in; else the API's message.
  function wordedRefusal(error) {
    const limits = error.limits || {};
    if (error.reason === "unknown_placeholder") {
      const template = limits.allowed ? T.communities_unknown_placeholder : T.communities_no_placeholder;
      return fill(template, { placeholders: limits.placeholders, allowed: limits.allowed });
    }
    if (T[`communities_reason_${error.reason}`]) return T[`communities_reason_${error.reason}`];  // blank …
    if (error.reason !== "pattern_syntax" || !error.limits) return error.message;
    const lines = limits.lines ? String(limits.lines).split("\n") : [String(limits.line)];
    const problems = limits.problems ? limits.problems.split("\n") : [limits.problem];
    const details = limits.details ? limits.details.split("\n") : [limits.detail];
    return lines.map((line, n) => {
      const problem = T[`communities_re2_${problems[n]}`] || details[n] || "";
      return fill(T.communities_pattern_refused, { line, problem });
    }).join("; ");
  }

  // The control a field names (`moderation.words.patterns`, or a part of one:
  // `moderation.words.words.2` is the words' control), with the field it goes by.
  function controlOf(form, field) {
    const parts = (field || "").split(".");
    for (let n = parts.length; n > 0; n -= 1) {
      const name = parts.slice(0, n).join(".");
      const named = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
      if (named) return { name, named };
    }
    return null;
  }

  // Every refusal next to the control it names, named as the page labels it (several at one
  // control together), the first of them on the page focused; what names no control goes in
  // the form's own box. `word` words one refusal (the page's words where it has them).
  function blame(form, error, box, word = wordedRefusal) {
    const fields = error.fields && error.fields.length ? error.fields : [error];
    const placed = new Map();
    const elsewhere = [];
    for (const each of fields) {
      const text = word(each);
      const found = controlOf(form, each.field);
      if (!found) {
        elsewhere.push(each.field ? `${each.field}${T.colon}${text}` : text);
        continue;
      }
      const label = labelOf(found.named);
      const said = label ? fill(T.communities_refused_at, { field: label, error: text }) : text;
      const at = placed.get(found.name) || { named: found.named, texts: [] };
      at.texts.push(said);
      placed.set(found.name, at);
    }
    for (const [name, { named, texts }] of placed) {
      const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
      if (slot) {
        slot.setAttribute("role", "alert");
        slot.textContent = texts.join(" ");
      } else {
        elsewhere.push(...texts);
      }
      named.setAttribute("aria-invalid", "true");
    }
    box.textContent = elsewhere.join(" ");
    const first = form.querySelector("[aria-invalid]");  // the first on the page, not in the answer
    (first?.matches("input, textarea, select") ? first : first?.querySelector("input"))?.focus();
  }

  const settings = document.getElementById("settings");
  settings?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("settings-error");
    clear(settings, error);
    try {
      community = await api("PATCH", `/communities/${community.id}`, patchOf(settings));
      say(T.communities_saved);
    } catch (e) {
      blame(settings, e, error);
    }
  });

  // A rule as its fieldset shows it, over the rule as saved (fields not shown keep theirs).
  // Actions keep the order they had; newly ticked ones follow in the order shown.
  function ruleOf(box) {
    const name = box.dataset.rule;
    const saved = community.moderation[name] || {};
    const rule = { ...saved };
    for (const control of box.querySelectorAll("[data-prop]")) {
      const { prop, kind } = control.dataset;
      if (prop === "enabled") rule.enabled = control.checked;
      else if (kind === "number") rule[prop] = control.value === "" ? null : Number(control.value);
      else if (kind === "lines") rule[prop] = read(control);
      else rule[prop] = control.value.split("\n").filter((line) => line.trim());  // patterns as typed
    }
    const ticked = [...box.querySelectorAll("[data-action]")]
      .filter((c) => c.checked).map((c) => c.dataset.action);
    const before = saved.actions || [];
    rule.actions = [...before.filter((a) => ticked.includes(a)), ...ticked.filter((a) => !before.includes(a))];
    return rule;
  }

  const moderation = document.getElementById("moderation");
  moderation?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("moderation-error");
    clear(moderation, error);
    const patch = patchOf(moderation);
    patch.moderation = patch.moderation || { ...community.moderation };
    for (const box of moderation.querySelectorAll("fieldset[data-rule]")) {
      patch.moderation[box.dataset.rule] = ruleOf(box);
    }
    try {
      community = await api("PATCH", `/communities/${community.id}`, { moderation: patch.moderation });
      say(T.communities_moderation_saved);
    } catch (e) {
      blame(moderation, e, error);
    }
  });

  // Lift: the row says so at once (and by whom); the lift's own row shows on the next load.
  const log = document.getElementById("audit-log");
  log?.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-lift]");
    if (!button) return;
    const cell = button.closest("td");
    const slot = cell.querySelector("[data-error-for]");
    slot.textContent = "";
    button.disabled = true;
    try {
      const lifted = await api("POST", `/communities/${community.id}/audit/${button.dataset.lift}/lift`);
      if (lifted.outcome !== "taken") {
        slot.textContent = `${T.communities_outcome_refused}${T.colon}${lifted.reason || ""}`;
        button.disabled = false;
        button.focus();
        return;
      }
      const done = document.createElement("span");
      done.className = "lifted";
      done.tabIndex = -1;
      done.textContent = T.communities_audit_lifted.replace("{name}", lifted.by.name || lifted.by.id || "");
      button.replaceWith(done);
      done.focus();
      say(T.communities_lifted_notice);
    } catch (e) {
      slot.textContent = e.message;
      button.disabled = false;
      button.focus();
    }
  });

  // A join request decided: its row says so at once (by whom), or shows why the API refused.
  function settled(request) {
    const by = request.decided_by || {};
    return by.kind === "agent"
      ? T[`communities_request_${request.status}_by`].replace("{name}", by.name || by.id || "")
      : T[`communities_request_${request.status}`];
  }

  const asked = document.getElementById("join-requests");
  asked?.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-verdict]");
    if (!button) return;
    const cell = button.closest("td");
    const row = cell.closest("tr");
    const slot = cell.querySelector("[data-error-for]");
    const buttons = [...cell.querySelectorAll("button[data-verdict]")];
    slot.textContent = "";
    for (const b of buttons) b.disabled = true;
    const { request, verdict } = button.dataset;
    try {
      const done = await api("POST", `/communities/${community.id}/join-requests/${request}/${verdict}`);
      const state = document.createElement("span");
      state.className = "settled";
      state.tabIndex = -1;
      state.textContent = settled(done);
      buttons[0].replaceWith(state);
      for (const b of buttons.slice(1)) b.remove();
      row.dataset.status = done.status;
      state.focus();
      say(T[`communities_request_${done.status}_notice`]);
    } catch (e) {
      slot.textContent = e.message;
      for (const b of buttons) b.disabled = false;
      button.focus();
    }
  });

  // Once: a second Enter while the first post is being made would post it twice.
  const post = document.getElementById("post");
  if (post) once(post, async () => {
    const error = document.getElementById("post-error");
    clear(post, error);
    const text = {};
    if (post.text_en.value.trim()) text.en = post.text_en.value;
    if (post.text_zh.value.trim()) text.zh = post.text_zh.value;
    if (!text.en && !text.zh) {  // said here, in the page's language, before asking the API
      error.textContent = T.communities_post_empty;
      post.text_en.focus();
      return;
    }
    const at = post.send_at.value ? new Date(post.send_at.value).toISOString() : null;
    const name = postName();
    try {
      const made = await api("POST", "/broadcasts", {
        name, community_ids: [community.id], message: { text }, send_at: at,
      });
      await api("POST", `/broadcasts/${made.id}/schedule`);
      say(T.communities_posted);
      window.location.reload();
      return once.LEAVING;
    } catch (e) {
      if (e.field === "message.text") {
        error.textContent = T.communities_post_empty;
        post.text_en.focus();
        return;
      }
      // The broadcasts' refusal reasons are worded for posts too ({{ customer… }} in a group).
      const word = (each) => {
        const worded = each.reason && T[`broadcasts_refused_${each.reason}`];
        return worded ? fill(worded, each.limits || {}) : wordedRefusal(each);
      };
      blame(post, e, error, word);
      if (!post.querySelector("[aria-invalid]")) post.text_en.focus();
    }
  });
})();

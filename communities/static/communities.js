// A community's page: save its settings (PATCH, each section whole, so fields this form does
// not show keep their values), save its moderation (the section and its rules in one PATCH:
// all taken or all refused, the refusal shown at the control it names), lift an action of
// its moderation log, approve or decline a join request, and post a message into it (a
// community broadcast, scheduled).
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

  function patchOf(form) {
    const patch = {};
    const copied = new Set();
    for (const control of form.querySelectorAll("[data-name]")) {
      const { section, name, kind, lang } = control.dataset;
      patch[section] = patch[section] || { ...community[section] };
      if (kind === "texts") {
        if (!copied.has(`${section}.${name}`)) {  // languages this form does not show stay
          copied.add(`${section}.${name}`);
          patch[section][name] = { ...community[section][name] };
        }
        if (control.value.trim()) patch[section][name][lang] = control.value;
        else delete patch[section][name][lang];
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

  // A refusal in the page's words: an RE2 pattern's (which line, what is wrong) from the
  // reason the API gave; else the API's message, worded by the page where it could.
  function wordedRefusal(error) {
    if (error.reason !== "pattern_syntax" || !error.limits) return error.message;
    const limits = error.limits;
    const problem = T[`communities_re2_${limits.problem}`] || limits.detail || "";
    return fill(T.communities_pattern_refused, { line: limits.line, problem });
  }

  // The refusal next to the control it names (`moderation.words.patterns`, or a part of one:
  // `moderation.words.words.2` is the words' control), named as the page labels it, else in
  // the form's own box.
  function blame(form, error, box) {
    let text = wordedRefusal(error);
    const parts = (error.field || "").split(".");
    for (let n = parts.length; n > 0; n -= 1) {
      const field = parts.slice(0, n).join(".");
      const named = form.querySelector(`[data-field="${CSS.escape(field)}"]`);
      if (!named) continue;
      const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
      const control = named.matches("input, textarea, select") ? named : named.querySelector("input");
      const label = labelOf(named);
      text = label ? fill(T.communities_refused_at, { field: label, error: text }) : text;
      if (slot) {
        slot.setAttribute("role", "alert");
        slot.textContent = text;
      } else {
        box.textContent = text;
      }
      named.setAttribute("aria-invalid", "true");
      control?.focus();
      return;
    }
    box.textContent = error.field ? `${error.field}: ${text}` : text;
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
        slot.textContent = `${T.communities_outcome_refused}: ${lifted.reason || ""}`;
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
    error.textContent = "";
    say("");
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
      const worded = e.reason && T[`broadcasts_refused_${e.reason}`];
      blame(post, worded ? { ...e, message: fill(worded, e.limits || {}) } : e, error);
      if (!e.field) post.text_en.focus();
    }
  });
})();

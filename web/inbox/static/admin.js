// Kith settings pages: users, teams, bots and the FAQ, over the /app/api JSON (tokens and the
// account page: admin_accounts.js; channels: admin_channels.js).
// Every user-supplied string reaches the page through textContent; nothing is parsed as HTML.
"use strict";

(() => {
  const body = document.body;
  const { T, ApiError, api, h, say: notice, confirmed, markFields, showRefusals, once, fill, dateTime, redrawList } = window.KithDom;
  const myId = body.dataset.userId;
  const canEdit = body.dataset.role === "admin";
  const $ = (id) => document.getElementById(id);

  // A form's refusal: each refused field's message (in the page's language, worded from its
  // `reason`) under its control, which is marked (aria-invalid) and describes itself by it,
  // the first focused; what no control holds, in the form's line (`KithDom.showRefusals`).
  // `paths`: the bot editor's form, whose fields are places in its JSON
  // (`flows.0.steps.2.type`): every one is listed in the form's line by that path too.
  // `showError(form, null)` clears it all.
  function showError(form, error, { paths = false } = {}) {
    if (!paths) {
      showRefusals(form, error);
      return;
    }
    const box = form.querySelector(".form-error");
    box.replaceChildren();
    markFields(form, error);
    if (!error) return;
    const fields = error.fields && error.fields.length ? error.fields : [error];
    fields.forEach((each, n) => {
      if (n) box.append(h("br"));
      if (each.field) box.append(h("code", {}, each.field), ": ");
      box.append(each.message || T.error);
    });
  }

  // Run a form's submit handler, once at a time (a double Enter makes one user, one token);
  // failures land in its error box, never in an alert(). A new attempt clears the last
  // one's error, also when the browser stops it (a bad email: `invalid`, no submit).
  // `shown`: how showError says it (`{ paths: true }` for the bot editor).
  function onSubmit(form, handler, shown = {}) {
    form.addEventListener("invalid", () => showError(form, null), true);
    once(form, async () => {
      showError(form, null);
      try {
        await handler(new FormData(form));
      } catch (error) {
        showError(form, error, shown);
      }
    });
  }

  function openDialog(dialog) {
    showError(dialog.querySelector("form"), null);
    dialog.showModal();
  }

  // Checkboxes named `name`, one per item, inside the `[data-choices=kind]` box of `root`.
  function fillChoices(root, kind, items, checked) {
    const box = root.querySelector(`[data-choices="${kind}"]`);
    box.replaceChildren(...items.map((item) =>
      h("label", { class: "choice" },
        h("input", { type: "checkbox", name: kind, value: item.id, checked: checked.has(item.id) }),
        " ", item.label)));
    if (!items.length) box.append(h("span", { class: "hint" }, T.none_yet));
  }

  // A new form's choices drawn again (the page's lists reloaded): what the admin has ticked so
  // far stays ticked while it is still a choice, and a focused box keeps the focus. Ticked as
  // the admin ticks (not by default), so the form's reset after a create still clears them.
  function refillChoices(form, kind, items) {
    const box = form.querySelector(`[data-choices="${kind}"]`);
    const ticked = new Set([...box.querySelectorAll("input:checked")].map((input) => input.value));
    const focused = box.contains(document.activeElement) ? document.activeElement.value : null;
    fillChoices(form, kind, items, new Set());
    for (const input of box.querySelectorAll("input")) {
      input.checked = ticked.has(input.value);
      if (input.value === focused) input.focus();
    }
  }

  function actionButton(label, name, onclick, extra = {}) {
    return h("button", { type: "button", "aria-label": `${label}${T.colon}${name}`, onclick, ...extra }, label);
  }

  function byId(items) {
    return Object.fromEntries(items.map((item) => [item.id, item]));
  }

  function nameList(ids, table) {
    return ids.map((id) => (table[id] ? table[id].name : id)).join(T.list_separator) || "—";
  }

  for (const dialog of document.querySelectorAll("dialog")) {
    for (const button of dialog.querySelectorAll("[data-close]")) {
      button.addEventListener("click", () => dialog.close());
    }
  }

  // ---- users -------------------------------------------------------------------------------

  function usersPage() {
    const state = { users: [], teams: [], locks: {}, editing: null, resetting: null };
    const dialog = $("edit-user");
    const editForm = dialog.querySelector("form");
    const resetDialog = $("reset-password");
    const resetForm = resetDialog.querySelector("form");

    async function load() {
      const [users, teams, locks] = await Promise.all(
        [api("GET", "/users"), api("GET", "/teams"), api("GET", "/users/login-locks")]);
      state.users = users.items;
      state.teams = teams.items;
      state.locks = Object.fromEntries(locks.items.map((l) => [l.user_id, l.locked_until]));
      const teamTable = byId(state.teams);
      redrawList($("users"), state.users.map((u) => userRow(u, teamTable)));
      refillChoices($("new-user"), "teams", teamChoices());
    }

    function teamChoices() {
      return state.teams.map((t) => ({ id: t.id, label: t.name }));
    }

    function userRow(u, teamTable) {
      const me = u.id === myId;
      const toggle = u.disabled
        ? actionButton(T.enable, u.name, () => setDisabled(u, false))
        : actionButton(T.disable, u.name, () => setDisabled(u, true), { hidden: me });
      return h("tr", { class: u.disabled ? "disabled" : "", dataset: { userId: u.id } },
        h("th", { scope: "row" }, u.name, me ? h("span", { class: "hint" }, fill(T.in_parens, { text: T.you })) : null),
        h("td", {}, u.email),
        h("td", {}, T["role_" + u.role] || u.role),
        h("td", {}, nameList(u.team_ids, teamTable)),
        h("td", {}, accountStatus(u)),
        h("td", { class: "actions" }, actionButton(T.edit, u.name, () => edit(u)),
          actionButton(T.reset_password, u.name, () => resetPassword(u)),
          state.locks[u.id] ? actionButton(T.unlock_login, u.name, () => unlock(u)) : null, toggle));
    }

    // Disabled, or locked out of signing in by failed attempts (until when), or active; and
    // whether they must choose their own password at their next sign-in.
    function accountStatus(u) {
      if (u.disabled) return T.disabled;
      const until = state.locks[u.id];
      const status = until ? fill(T.login_locked_until, { time: dateTime(until) }) : T.active;
      if (!u.must_change_password) return status;
      return [status, h("br"), h("span", { class: "hint must-change" }, T.must_change_password)];
    }

    // Lift the user's sign-in locks; focus stays in their row (on Edit: Unlock is gone).
    async function unlock(u) {
      try {
        await api("POST", `/users/${encodeURIComponent(u.id)}/unlock`);
        notice(fill(T.login_unlocked, { name: u.name }));
      } catch (error) {
        notice(error.message, { error: true });
      }
      await load();
      const row = [...$("users").rows].find((r) => r.dataset.userId === u.id);
      if (row) row.querySelector("button").focus();
    }

    function resetPassword(u) {
      state.resetting = u;
      $("reset-password-heading").textContent = `${T.reset_password}${T.colon}${u.name}`;
      resetForm.reset();
      openDialog(resetDialog);
    }

    onSubmit(resetForm, async (data) => {
      await api("PUT", `/users/${encodeURIComponent(state.resetting.id)}/password`,
        { password: data.get("password") });
      resetDialog.close();
      notice(T.password_reset_done);
    });

    function edit(u) {
      state.editing = u;
      $("edit-user-heading").textContent = `${T.edit_user}${T.colon}${u.name}`;
      editForm.elements.name.value = u.name;
      editForm.elements.role.value = u.role;
      editForm.elements.role.disabled = u.id === myId;
      fillChoices(editForm, "teams", teamChoices(), new Set(u.team_ids));
      openDialog(dialog);
    }

    async function setDisabled(u, disabled) {
      if (disabled && !(await confirmed(`${T.disable_confirm} ${u.name}`))) return;
      try {
        await api("PATCH", `/users/${encodeURIComponent(u.id)}`, { disabled });
        notice(disabled ? T.user_disabled : T.user_enabled);
      } catch (error) {
        notice(error.message, { error: true });
      }
      await load();
    }

    onSubmit($("new-user"), async (data) => {
      await api("POST", "/users", {
        name: data.get("name").trim() || null,
        email: data.get("email").trim(),
        password: data.get("password"),
        role: data.get("role"),
        team_ids: data.getAll("teams"),
      });
      $("new-user").reset();
      notice(T.user_created);
      await load();
    });

    onSubmit(editForm, async (data) => {
      const change = { name: data.get("name").trim(), team_ids: data.getAll("teams") };
      if (!editForm.elements.role.disabled) change.role = data.get("role");
      await api("PATCH", `/users/${encodeURIComponent(state.editing.id)}`, change);
      dialog.close();
      notice(T.saved);
      await load();
    });

    return load();
  }

  // ---- teams -------------------------------------------------------------------------------

  function teamsPage() {
    const state = { teams: [], users: [], channels: [], editing: null };
    const dialog = $("edit-team");
    const editForm = dialog.querySelector("form");

    async function load() {
      const [teams, users, channels] = await Promise.all(
        [api("GET", "/teams"), api("GET", "/users"), api("GET", "/channels")]);
      state.teams = teams.items;
      state.users = users.items;
      state.channels = channels.items;
      redrawList($("teams"), state.teams.map(teamRow));
      $("no-teams").hidden = state.teams.length > 0;
      refillChoices($("new-team"), "channels", channelChoices());
    }

    function channelChoices() {
      return state.channels.map((c) => ({ id: c.id, label: `${c.name} (${c.type})` }));
    }

    function membersOf(team) {
      return state.users.filter((u) => u.team_ids.includes(team.id));
    }

    function teamRow(team) {
      const members = membersOf(team).map((u) => u.name).join(T.list_separator) || "—";
      return h("tr", {},
        h("th", { scope: "row" }, team.name),
        h("td", {}, members),
        h("td", {}, nameList(team.channel_ids, byId(state.channels))),
        h("td", { class: "actions" }, actionButton(T.edit, team.name, () => edit(team)),
          actionButton(T.delete, team.name, () => remove(team), { class: "danger" })));
    }

    function edit(team) {
      state.editing = team;
      $("edit-team-heading").textContent = `${T.edit_team}${T.colon}${team.name}`;
      editForm.elements.name.value = team.name;
      const members = new Set(membersOf(team).map((u) => u.id));
      const people = state.users
        .filter((u) => !u.disabled || members.has(u.id))
        .map((u) => ({ id: u.id, label: `${u.name} <${u.email}>` }));
      fillChoices(editForm, "members", people, members);
      fillChoices(editForm, "channels", channelChoices(), new Set(team.channel_ids));
      openDialog(dialog);
    }

    // Delete after a confirmation naming what the team holds (its conversations and tickets
    // move to no team); while a bot, SLA policy or sequence names it, say which instead.
    // Focus then goes to the next team's Delete (or the new team's name).
    async function remove(team) {
      const path = `/teams/${encodeURIComponent(team.id)}`;
      try {
        const held = await api("GET", `${path}/holdings`);
        const users = Object.entries(held.used_by);
        if (users.length) {
          const names = users.map(([kind, list]) => `${T["team_used_by_" + kind] || kind}${T.colon}${list.join(T.list_separator)}`);
          notice(fill(T.team_in_use, { name: team.name, names: names.join("; ") }));
          return;
        }
        const text = fill(T.delete_team_confirm, { name: team.name, ...held });
        if (!(await confirmed(text))) return;
        const at = state.teams.indexOf(team);
        await api("DELETE", path);
        await load();
        notice(fill(T.team_deleted, { name: team.name }));
        const rows = $("teams").rows;
        const next = rows[Math.min(at, rows.length - 1)];
        (next ? next.querySelector("button.danger") : $("new-team").elements.name).focus();
      } catch (error) {
        notice(error.message, { error: true });
      }
    }

    onSubmit($("new-team"), async (data) => {
      await api("POST", "/teams", { name: data.get("name").trim(), channel_ids: data.getAll("channels") });
      $("new-team").reset();
      notice(T.team_created);
      await load();
    });

    onSubmit(editForm, async (data) => {
      const team = state.editing;
      const before = new Set(membersOf(team).map((u) => u.id));
      const after = new Set(data.getAll("members"));
      await api("PATCH", `/teams/${encodeURIComponent(team.id)}`, {
        name: data.get("name").trim(),
        channel_ids: data.getAll("channels"),
        add_member_ids: [...after].filter((id) => !before.has(id)),
        remove_member_ids: [...before].filter((id) => !after.has(id)),
      });
      dialog.close();
      notice(T.saved);
      await load();
    });

    return load();
  }

  // ---- bots and the knowledge base ---------------------------------------------------------

  const BLANK_BOT = { name: "", enabled: true, channel_ids: [], flows: [] };

  // What PUT and POST accept: a stored bot without the fields the server sets.
  function definition(bot) {
    const { id, workspace_id, created_at, ...rest } = bot;
    return rest;
  }

  function botsPage() {
    const state = { bots: [], channels: {}, editing: null, listed: null };
    const editor = $("bot-editor");
    const form = $("bot-form");
    // The bot's form and its "Advanced: JSON" tab, one definition (bot_editor.js).
    const botEditor = window.KithBotEditor.create({
      panel: $("bot-panel-form"),
      textarea: $("bot-json"),
      tabs: [$("bot-tab-form"), $("bot-tab-json")],
      canEdit,
      onError: (error) => showError(form, error, { paths: true }),
    });

    async function load() {
      const [bots, channels, teams] = await Promise.all(
        [api("GET", "/bots"), api("GET", "/channels"), api("GET", "/teams")]);
      state.bots = bots.items;
      state.channels = byId(channels.items);
      botEditor.setLists({ channels: channels.items, teams: teams.items });
      redrawList($("bots"), state.bots.map(botRow));
      $("no-bots").hidden = state.bots.length > 0;
    }

    function botRow(bot) {
      const channels = bot.channel_ids.length ? nameList(bot.channel_ids, state.channels) : T.bot_no_channels;
      const actions = canEdit
        ? [
            actionButton(T.edit, bot.name, () => openEditor(bot)),
            actionButton(bot.enabled ? T.disable : T.enable, bot.name, () => toggle(bot)),
            actionButton(T.delete, bot.name, () => remove(bot), { class: "danger" }),
          ]
        : [actionButton(T.view, bot.name, () => openEditor(bot))];
      return h("tr", { class: bot.enabled ? "" : "disabled" },
        h("th", { scope: "row" }, bot.name),
        h("td", {}, channels),
        h("td", {}, String(bot.flows.length)),
        h("td", {}, bot.enabled ? T.enabled : T.disabled),
        h("td", { class: "actions" }, actions));
    }

    async function openEditor(bot) {
      state.editing = bot;
      $("bot-editor-heading").textContent = bot ? `${canEdit ? T.edit_bot : T.view}${T.colon}${bot.name}` : T.new_bot;
      showKey(null);
      showError(form, null);
      editor.hidden = false;
      // The form draws its channel and team choices once: opened before the page's first
      // lists arrive, it would grow a row under the cursor (and move Tab's next stop) later.
      await state.listed.catch(() => {});
      await botEditor.load(bot ? definition(bot) : BLANK_BOT);
      editor.scrollIntoView({ block: "start" });
      botEditor.focus();
    }

    // The webhook signing key, shown once: after creating a bot or asking for a new key.
    function showKey(secret) {
      $("bot-key").hidden = !secret;
      $("bot-key-value").value = secret || "";
      if (canEdit) $("new-bot-key").hidden = !state.editing;
      if (secret) $("bot-key-value").select();
    }

    async function newKey() {
      const bot = state.editing;
      if (!(await confirmed(`${T.new_webhook_key_confirm} ${bot.name}`))) return;
      try {
        const { webhook_secret } = await api("POST", `/bots/${encodeURIComponent(bot.id)}/webhook-secret`);
        showKey(webhook_secret);
        $("bot-key-value").focus();
      } catch (error) {
        notice(error.message, { error: true });
      }
    }

    async function toggle(bot) {
      try {
        const saved = await api("PUT", `/bots/${encodeURIComponent(bot.id)}`,
          { ...definition(bot), enabled: !bot.enabled });
        notice(saved.enabled ? T.bot_enabled : T.bot_disabled);
      } catch (error) {
        notice(error.message, { error: true });
      }
      await load();
    }

    async function remove(bot) {
      if (!(await confirmed(`${T.delete_bot_confirm} ${bot.name}`))) return;
      try {
        await api("DELETE", `/bots/${encodeURIComponent(bot.id)}`);
        notice(T.bot_deleted);
        if (state.editing && state.editing.id === bot.id) editor.hidden = true;
      } catch (error) {
        notice(error.message, { error: true });
      }
      await load();
    }

    $("close-editor").addEventListener("click", () => { editor.hidden = true; });
    onSubmit(form, async () => {
      const bot = botEditor.value();
      const saved = state.editing
        ? await api("PUT", `/bots/${encodeURIComponent(state.editing.id)}`, bot)
        : await api("POST", "/bots", bot);
      state.editing = saved;
      $("bot-editor-heading").textContent = `${T.edit_bot}${T.colon}${saved.name}`;
      notice(saved.webhook_secret ? `${T.bot_saved} ${T.webhook_key_shown_once}` : T.bot_saved);
      showKey(saved.webhook_secret || null);
      await load();
    }, { paths: true });

    state.listed = load();
    if (canEdit) {
      $("new-bot").addEventListener("click", () => openEditor(null));
      $("new-bot").disabled = false;  // the page's script is here: the button works from now on
      $("new-bot-key").addEventListener("click", newKey);
      $("load-example").addEventListener("click", async () => {
        const name = $("example").value;
        showError(form, null);
        if (state.editing && !(await confirmed(`${T.load_example_confirm} ${state.editing.name}`))) return;
        try {
          const example = name ? await api("GET", `/bot-examples/${encodeURIComponent(name)}`) : BLANK_BOT;
          await botEditor.load(example);
        } catch (error) {
          showError(form, error, { paths: true });
        }
      });
      api("GET", "/bot-examples").then((examples) => {
        $("example").append(...examples.items.map((e) => h("option", { value: e.id }, e.name)));
      });
    }
    return Promise.all([state.listed, knowledge()]);
  }

  // The notice of an article saved without an answer in a language the FAQ serves (the
  // server's `warnings`), else "".
  function missingLanguages(article) {
    const languages = (article.warnings || [])
      .filter((w) => w.reason === "answer_language_missing")
      .map((w) => T["be_lang_" + w.limits.language] || w.limits.language);
    if (!languages.length) return "";
    const list = new Intl.ListFormat(document.documentElement.lang || "en").format(languages);
    return fill(T.article_missing_language, { languages: list });
  }

  // The FAQ: a table of articles and one form, which adds an article or, after its row's
  // Edit, changes that one (Save changes; Stop editing or Escape goes back to adding).
  function knowledge() {
    const form = $("new-article");
    const state = { editing: null };

    async function load() {
      const articles = (await api("GET", "/knowledge")).items;
      redrawList($("articles"), articles.map(articleRow));
      $("no-articles").hidden = articles.length > 0;
    }

    function articleRow(a) {
      const answer = a.answer[body.dataset.locale] || a.answer.en || Object.values(a.answer)[0] || "";
      return h("tr", {},
        h("th", { scope: "row" }, a.title),
        h("td", {}, h("ul", { class: "plain" }, a.questions.map((q) => h("li", {}, q)))),
        h("td", {}, answer),
        h("td", { class: "actions" }, canEdit ? [
          actionButton(T.edit, a.title, () => edit(a), { "data-edit": a.id }),
          actionButton(T.delete, a.title, () => remove(a), { class: "danger" }),
        ] : null));
    }

    async function remove(a) {
      if (!(await confirmed(`${T.delete_article_confirm} ${a.title}`))) return;
      try {
        await api("DELETE", `/knowledge/${encodeURIComponent(a.id)}`);
        notice(T.article_deleted);
        if (state.editing && state.editing.id === a.id) stopEditing(false);
      } catch (error) {
        notice(error.message, { error: true });
      }
      await load();
    }

    // The form adds (`article` null) or edits `article`: its name, summary and buttons say which.
    function setMode(article) {
      state.editing = article;
      const name = article ? `${T.edit_article}${T.colon}${article.title}` : T.new_article;
      $("article-summary").textContent = name;
      form.setAttribute("aria-label", name);
      $("save-article").textContent = article ? T.save_changes : T.save_article;
      $("stop-editing").hidden = !article;
      showError(form, null);
    }

    function edit(a) {
      form.reset();
      setMode(a);
      form.elements.title.value = a.title;
      form.elements.questions.value = a.questions.join("\n");
      form.elements.answer_en.value = a.answer.en || "";
      form.elements.answer_zh.value = a.answer.zh || "";
      $("article-box").open = true;
      form.elements.title.focus();
    }

    // Back to adding; focus returns to the edited row's Edit button.
    function stopEditing(refocus = true) {
      const was = state.editing;
      form.reset();
      setMode(null);
      if (refocus && was) focusEdit(was.id);
    }

    function focusEdit(id) {
      const button = $("articles").querySelector(`[data-edit="${CSS.escape(id)}"]`);
      if (button) button.focus();
    }

    if (form) {
      $("stop-editing").addEventListener("click", () => stopEditing());
      form.addEventListener("keydown", (event) => {
        if (event.key === "Escape" && state.editing) {
          event.preventDefault();
          stopEditing();
        }
      });
      onSubmit(form, async (data) => {
        const editing = state.editing;
        const answer = editing ? { ...editing.answer } : {};  // keeps other languages' answers
        for (const lang of ["en", "zh"]) {
          const text = data.get("answer_" + lang).trim();
          if (text) answer[lang] = text;
          else delete answer[lang];
        }
        const questions = data.get("questions").split("\n").map((q) => q.trim()).filter(Boolean);
        const article = { title: data.get("title").trim(), questions, answer };
        const saved = editing
          ? await api("PUT", `/knowledge/${encodeURIComponent(editing.id)}`,
            { ...article, enabled: editing.enabled })
          : await api("POST", "/knowledge", article);
        form.reset();
        setMode(null);
        notice(missingLanguages(saved) || (editing ? T.article_updated : T.article_saved));
        await load();
        if (editing) focusEdit(editing.id);
      });
    }
    return load();
  }

  // For the pages kept in their own script (admin_channels.js), which loads after this one.
  window.KithAdmin = Object.freeze({
    T, api, h, $, ApiError, notice, showError, onSubmit, confirmed, openDialog, actionButton,
  });

  const pages = { users: usersPage, teams: teamsPage, bots: botsPage };
  const page = pages[body.dataset.page];
  if (page) {
    // Once every deferred script has run: a page's own module (bot_editor.js) loads after this.
    document.addEventListener("DOMContentLoaded", () => {
      page().catch((error) => notice(error.message || T.error, { error: true }));
    });
  }
})();

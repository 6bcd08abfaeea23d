// Kith settings: the workspace's API tokens (admins) and one's own password (everyone).
// Loads after admin.js and uses its helpers (window.KithAdmin).
"use strict";

(() => {
  const { T, api, h, $, ApiError, notice, onSubmit, confirmed, actionButton } = window.KithAdmin;
  const { dateTime, redrawList } = window.KithDom;

  // A token's date and time as every page writes them; `empty` for none (e.g. "never").
  function when(value, empty) {
    return value ? h("time", { datetime: value }, dateTime(value)) : empty;
  }

  // ---- API tokens --------------------------------------------------------------------------

  function tokensPage() {
    async function load() {
      const tokens = (await api("GET", "/tokens")).items;
      redrawList($("tokens"), tokens.map(tokenRow));
      $("no-tokens").hidden = tokens.length > 0;
    }

    function tokenRow(token) {
      return h("tr", {},
        h("th", { scope: "row" }, token.name),
        h("td", {}, T["scope_" + token.scope] || token.scope),
        h("td", {}, when(token.created_at, "—")),
        h("td", {}, when(token.last_used_at, T.never)),
        h("td", {}, when(token.expires_at, T.never)),
        h("td", { class: "actions" },
          actionButton(T.revoke, token.name, () => revoke(token), { class: "danger" })));
    }

    async function revoke(token) {
      if (!(await confirmed(`${T.revoke_token_confirm} ${token.name}`))) return;
      try {
        await api("DELETE", `/tokens/${encodeURIComponent(token.id)}`);
        notice(T.token_revoked);
      } catch (error) {
        notice(error.message, { error: true });
      }
      await load();
    }

    function showCreated(created) {
      $("token-created-heading").textContent = `${T.token_created}${T.colon}${created.name}`;
      const box = $("token-value");
      box.value = created.token;
      $("token-created").hidden = false;
      box.focus();
      box.select();
    }

    $("token-created-done").addEventListener("click", () => {
      $("token-value").value = "";  // the token leaves the page for good
      $("token-created").hidden = true;
      $("new-token").elements.name.focus();
    });

    const form = $("new-token");
    onSubmit(form, async (data) => {
      const days = data.get("expires_in_days").trim();
      const created = await api("POST", "/tokens", {
        name: data.get("name").trim(),
        scope: data.get("read_only") ? "read" : "full",
        expires_in_days: days ? Number(days) : null,
      });
      form.reset();
      await load();
      showCreated(created);
    });
    return load();
  }

  // ---- one's own password ------------------------------------------------------------------

  function accountPage() {
    const form = $("change-password");
    onSubmit(form, async (data) => {
      if (data.get("new_password") !== data.get("repeat_password")) {
        throw new ApiError(T.passwords_differ, "repeat_password");
      }
      await api("PUT", "/me/password", {
        current_password: data.get("current_password"),
        new_password: data.get("new_password"),
      });
      form.reset();
      notice(T.password_changed);
      // A password the admin chose is replaced: on to the user's own landing page.
      const required = $("must-change-password");
      if (required) window.location.assign(required.dataset.then);
    });
    const required = $("must-change-password");
    if (required) form.elements.current_password.focus();
    return Promise.resolve();
  }

  const pages = { tokens: tokensPage, account: accountPage };
  const page = pages[document.body.dataset.page];
  if (page) {
    page().catch((error) => notice(error.message || T.error, { error: true }));
  }
})();

// Kith settings → Channels: list, connect and edit accounts over /app/api/admin/channels.
// Each type's form is built from its config's JSON Schema; secret fields are password inputs
// that start blank (blank keeps the stored value). Every string reaches the page through
// textContent or an input's value; nothing is parsed as HTML.
"use strict";

(() => {
  const K = window.KithAdmin;
  if (!K || document.body.dataset.page !== "channels") return;
  const { T, api, h, $, notice, showError, confirmed, openDialog, actionButton } = K;
  const { fill, date, dateTime, channelIcon } = window.KithDom;
  const state = { types: {}, channels: [], editing: null };
  let uid = 0;

  const typeLabel = (name) => T["channel_type_" + name] || name;
  const fieldLabel = (name, prop) => T["cfg_" + name] || prop.title || name;
  const icon = (type) => channelIcon(type, { decorative: true });

  // A property's own schema (`anyOf: [X, null]` is an optional X) and whether null is allowed.
  function shape(prop) {
    const options = prop.anyOf || [prop];
    const spec = options.find((o) => o.type !== "null") || {};
    return { spec, nullable: options.some((o) => o.type === "null") };
  }

  function kindOf(type, name, spec) {
    if (type.secret_fields.includes(name)) return "secret";
    if (spec.enum) return "select";
    if (spec.type === "boolean") return "checkbox";
    if (spec.type === "integer" || spec.type === "number") return "number";
    if (spec.type === "array") return "list";
    return "text";
  }

  function control(kind, name, spec, value) {
    if (kind === "select") {
      const select = h("select", { name }, spec.enum.map((v) => h("option", { value: v }, v)));
      if (value !== undefined && value !== null) select.value = value;
      return select;
    }
    if (kind === "checkbox") return h("input", { type: "checkbox", name, checked: Boolean(value) });
    if (kind === "list") {
      const area = h("textarea", { name, rows: 3, spellcheck: "false" });
      area.value = (value || []).join("\n");
      return area;
    }
    const attrs = { name, autocomplete: "off", spellcheck: "false" };
    if (kind === "secret") Object.assign(attrs, { type: "password", autocomplete: "new-password" });
    else if (kind === "number") {
      Object.assign(attrs, { type: "number", step: spec.type === "integer" ? 1 : "any" });
      Object.assign(attrs, { min: spec.minimum, max: spec.maximum });
    } else Object.assign(attrs, { type: "text", maxlength: spec.maxLength });
    const input = h("input", attrs);
    if (kind !== "secret" && value !== undefined && value !== null) input.value = String(value);
    return input;
  }

  // A connector's own text in the page's language, if it brought one (key "": the type).
  function translated(type, key) {
    return ((type.translations || {})[document.body.dataset.locale] || {})[key] || null;
  }

  // The hint under a field: what keeps or makes a secret, then the connector's description.
  function hintOf(type, name, prop, kind, editing) {
    const parts = [];
    if (kind === "secret" && editing) parts.push(T.secret_keep);
    else if (kind === "secret" && type.generated.includes(name)) parts.push(T.secret_generated);
    if (kind === "list") parts.push(T.one_per_line);
    const described = translated(type, name) || prop.description;
    if (described) parts.push(described);
    return parts.join(" ");
  }

  function configField(type, name, prop, values, editing) {
    const { spec } = shape(prop);
    const kind = kindOf(type, name, spec);
    const required = (type.schema.required || []).includes(name) && !(editing && kind === "secret");
    const given = values ? values[name] : undefined;
    const value = given !== undefined ? given : prop.default;
    const input = control(kind, name, spec, value);
    const id = `cfg-${++uid}`;
    const hint = hintOf(type, name, prop, kind, editing);
    input.setAttribute("aria-describedby", `${id}-hint ${id}-error`);
    if (required) input.setAttribute("aria-required", "true");
    const text = h("span", { class: required ? "required" : "" }, fieldLabel(name, prop));
    const label = kind === "checkbox"
      ? h("label", { class: "choice" }, input, " ", text)
      : h("label", {}, text, " ", input);
    return h("div", { class: "field", "data-field": `config.${name}`, "data-kind": kind },
      label,
      h("p", { class: "hint", id: `${id}-hint` }, hint),
      h("p", { class: "field-error", id: `${id}-error` }));
  }

  function fillConfig(form, type, values, editing) {
    const box = form.querySelector("[data-config]");
    const props = Object.entries(type.schema.properties || {});
    box.replaceChildren(...props.map(([name, prop]) => configField(type, name, prop, values, editing)));
    if (!props.length) box.append(h("span", { class: "hint" }, T.nothing_to_set));
  }

  // The form's config. Creating, a blank field is left out (its default applies); editing, a
  // blank secret keeps its value, a blank optional field is cleared, others go to the server.
  function readConfig(form, type, editing) {
    const config = {};
    for (const [name, prop] of Object.entries(type.schema.properties || {})) {
      const { spec, nullable } = shape(prop);
      const kind = kindOf(type, name, spec);
      const input = form.querySelector(`[data-field="config.${name}"] [name="${name}"]`);
      if (kind === "checkbox") {
        config[name] = input.checked;
        continue;
      }
      if (kind === "list") {
        const lines = input.value.split("\n").map((v) => v.trim()).filter(Boolean);
        if (lines.length || editing) config[name] = lines;
        continue;
      }
      const raw = input.value.trim();
      if (raw) config[name] = kind === "number" && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
      else if (!editing || kind === "secret") continue;
      else if (nullable) config[name] = null;
      else if (prop.default !== undefined) config[name] = prop.default;
      else config[name] = raw;
    }
    return config;
  }

  // A refusal's wrong format or length, in the rule the control keeps: what the platform's
  // value looks like (`cfg_rule_<type>_<field>`: a Telegram bot token is 123456:ABC-DEF…).
  const RULED = new Set(["string_pattern_mismatch", "string_too_short", "string_too_long"]);

  // Each refused field of `error` in words: its control's label (never the API's path) and
  // its rule, or the server's reason worded in the page's language (a blank required field is
  // "required", not "at least 1 characters").
  function worded(type, error) {
    const fields = error.fields && error.fields.length ? error.fields : [error];
    return fields.map((each) => {
      const path = String(each.field || "");
      const name = path.startsWith("config.") ? path.split(".")[1] : null;
      const rule = name && type && RULED.has(each.reason) ? T[`cfg_rule_${type.name}_${name}`] : null;
      const blank = each.reason === "string_too_short" && (each.limits || {}).min_length === 1;
      const taken = each.reason === "mailbox_taken" ? fill(T.reason_mailbox_taken, each.limits || {}) : null;
      const message = rule || taken || (blank ? T.reason_missing : each.message) || T.error;
      const prop = name && type ? (type.schema.properties || {})[name] || {} : {};
      const label = name ? fieldLabel(name, prop) : ({ name: T.name, type: T.channel_type })[path] || path;
      return { ...each, message, label };
    });
  }

  // The server's error: in the form's alert ("Bot token: Looks like …"), and next to every
  // field it names (`config.x.0` is shown at `config.x`), the first one focused.
  function showFieldError(form, error, type = null) {
    showError(form, null);
    if (!error) return;
    const fields = worded(type, error);
    const box = form.querySelector(".form-error");
    fields.forEach((each, n) => {
      if (n) box.append(h("br"));
      box.append(each.label ? fill(T.cfg_refusal, each) : each.message);
    });
    window.KithDom.markFields(form, { fields: fields.filter((each) => each.field) });
  }

  function onChannelSubmit(form, typeOf, handler) {
    window.KithDom.once(form, async () => {  // a double Enter adds one channel
      showFieldError(form, null);
      try {
        await handler(new FormData(form));
      } catch (error) {
        showFieldError(form, error, typeOf());
      }
    });
  }

  // A labelled read-only box: the text can be selected and copied, never interpreted.
  function readOnly(label, value, multiline = false) {
    const box = multiline ? h("textarea", { readonly: true, rows: 2, spellcheck: "false" })
      : h("input", { type: "text", readonly: true, spellcheck: "false" });
    box.value = value;
    return h("label", { class: "secret-value" }, label, " ", box);
  }

  function endpointBoxes(channel) {
    const boxes = channel.endpoints.map((e) => readOnly(T["endpoint_" + e.key] || e.key, e.url));
    const script = channel.endpoints.find((e) => e.key === "script_url");
    if (script) boxes.push(readOnly(T.script_tag, `<script src="${script.url}" async></script>`, true));
    return boxes;
  }

  // ---- the list ----------------------------------------------------------------------------

  async function load() {
    state.channels = (await api("GET", "/admin/channels")).items;
    $("channels").replaceChildren(...state.channels.map(channelRow));
    $("no-channels").hidden = state.channels.length > 0;
  }

  // A moment of today as its time ("14:02"), of another day with its date as well.
  const clockFormat = new Intl.DateTimeFormat(document.body.dataset.locale === "zh" ? "zh-CN" : "en-GB",
    { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  function moment(iso) {
    const at = new Date(iso);
    const text = at.toDateString() === new Date().toDateString() ? clockFormat.format(at) : dateTime(iso);
    return h("time", { datetime: iso }, text);
  }

  // A polled channel's last poll, in words (never a colour alone): why and since when it
  // cannot connect, or when it was last checked. Nothing for a channel that is not polled.
  function pollStatus(channel) {
    const poll = channel.poll;
    if (!channel.enabled || !poll || !poll.last_poll_at) return null;
    if (!poll.failing_since) {
      const [before, after] = T.poll_checked.split("{when}");
      return h("p", { class: "poll hint" }, before, moment(poll.last_poll_at), after);
    }
    const reason = T["poll_reason_" + poll.reason] || poll.error || T.poll_reason_error;
    const [before, after] = fill(T.poll_failing, { reason }).split("{since}");
    const hint = fill(T.poll_failing_hint, { count: poll.failures }).split("{when}");
    return [
      h("p", { class: "poll failing" }, h("span", { "aria-hidden": "true" }, "⚠ "),
        before, moment(poll.failing_since), after),
      h("p", { class: "poll hint" }, hint[0], moment(poll.last_poll_at), hint[1]),
    ];
  }

  function channelRow(channel) {
    const toggle = channel.enabled
      ? actionButton(T.disable, channel.name, () => setEnabled(channel, false))
      : actionButton(T.enable, channel.name, () => setEnabled(channel, true));
    return h("tr", { class: channel.enabled ? "" : "disabled" },
      h("th", { scope: "row" }, channel.name),
      h("td", {}, icon(channel.type), " ", typeLabel(channel.type)),
      h("td", { class: "status" }, channel.enabled ? T.enabled : T.disabled, pollStatus(channel)),
      h("td", {}, h("time", { datetime: channel.created_at }, date(channel.created_at))),
      h("td", { class: "actions" }, actionButton(T.edit, channel.name, () => edit(channel)),
        channel.type === "api" ? actionButton(T.rotate_token, channel.name, () => rotateToken(channel)) : null,
        toggle));
  }

  // A new inbound token for an API channel, shown once where creation shows its secrets.
  async function rotateToken(channel) {
    if (!(await confirmed(`${T.rotate_token_confirm} ${channel.name}`))) return;
    try {
      const { token } = await api("POST", `/admin/channels/${encodeURIComponent(channel.id)}/token`);
      $("channel-created-heading").textContent = `${T.new_channel_token}${T.colon}${channel.name}`;
      $("channel-created-how").textContent = "";
      const box = readOnly(T.channel_token, token);
      $("channel-created-values").replaceChildren(box);
      $("channel-created").hidden = false;
      box.querySelector("input").focus();
      box.querySelector("input").select();
    } catch (error) {
      notice(error.message, { error: true });
    }
  }

  async function setEnabled(channel, enabled) {
    if (!enabled && !(await confirmed(`${T.disable_channel_confirm} ${channel.name}`))) return;
    try {
      await api("PATCH", `/admin/channels/${encodeURIComponent(channel.id)}`, { enabled });
      notice(enabled ? T.channel_enabled : T.channel_disabled);
    } catch (error) {
      notice(error.message, { error: true });
    }
    await load();
  }

  // ---- dead letters: authentic payloads Kith could not use, and their replay ---------------

  async function loadDeadLetters() {
    const letters = (await api("GET", "/admin/dead-letters")).items;
    $("dead-letters").replaceChildren(...letters.map(deadLetterRow));
    $("no-dead-letters").hidden = letters.length > 0;
  }

  function deadLetterStatus(letter) {
    if (letter.replayed_at) return fill(T.dead_letter_processed, { outcome: letter.outcome || "" });
    return letter.replays ? fill(T.dead_letter_tried, { count: letter.replays }) : T.dead_letter_waiting;
  }

  // The reason, then what was sent, folded: a <details> opens with Enter or Space.
  function deadLetterReason(letter) {
    const reason = letter.field ? `${letter.reason} (${letter.field})` : letter.reason;
    const sent = letter.preview === null ? h("p", { class: "hint" }, T.dead_letter_dropped)
      : h("details", {}, h("summary", {}, T.dead_letter_payload), h("pre", { class: "payload" }, letter.preview));
    return [h("span", {}, reason), sent];
  }

  function deadLetterRow(letter) {
    const received = dateTime(letter.last_received_at);
    const channel = state.channels.find((c) => c.id === letter.channel_id);
    const name = channel ? channel.name : letter.channel_id;
    const times = letter.deliveries > 1 ? fill(T.in_parens, { text: fill(T.times_received, { count: letter.deliveries }) }) : "";
    const label = `${name}, ${received}`;
    return h("tr", { dataset: { deadLetter: letter.id } },
      h("td", {}, h("time", { datetime: letter.last_received_at }, received), times),
      h("th", { scope: "row" }, icon(letter.channel_type), " ", name),
      h("td", { class: "reason" }, deadLetterReason(letter)),
      h("td", {}, deadLetterStatus(letter)),
      h("td", { class: "actions" }, letter.replayed_at ? null
        : actionButton(T.replay, label, () => replay(letter))));
  }

  async function replay(letter) {
    try {
      const done = await api("POST", `/admin/dead-letters/${encodeURIComponent(letter.id)}/replay`);
      notice(done.replayed_at ? T.dead_letter_done : T.dead_letter_still_failing);
    } catch (error) {
      notice(error.message, { error: true });
    }
    await loadDeadLetters();
    $("dead-letters-heading").focus();
  }

  // ---- creating: the form, then what the platform needs, shown once ------------------------

  function newChannelForm() {
    const form = $("new-channel");
    const select = form.elements.type;
    const described = form.querySelector("[data-type-description]");
    select.replaceChildren(...Object.values(state.types).map((t) => h("option", { value: t.name }, typeLabel(t.name))));
    const pick = () => {
      const type = state.types[select.value];
      described.textContent = translated(type, "") || type.description;
      fillConfig(form, type, null, false);
      showFieldError(form, null);
    };
    select.addEventListener("change", pick);
    pick();
    onChannelSubmit(form, () => state.types[select.value], async (data) => {
      const type = state.types[data.get("type")];
      const created = await api("POST", "/admin/channels", {
        type: type.name, name: data.get("name").trim(), config: readConfig(form, type, false),
      });
      form.elements.name.value = "";
      pick();
      showCreated(created);
      notice(T.channel_created);
      await load();
    });
  }

  function showCreated(channel) {
    const panel = $("channel-created");
    $("channel-created-heading").textContent = `${T.connect_channel}${T.colon}${channel.name}`;
    $("channel-created-how").textContent = T["connect_hint_" + channel.type] || "";
    const secrets = Object.entries(channel.secrets).map(([name, value]) =>
      readOnly(fieldLabel(name, (state.types[channel.type].schema.properties || {})[name] || {}), value));
    $("channel-created-values").replaceChildren(
      readOnly(T.channel_token, channel.token), ...secrets, ...endpointBoxes(channel));
    panel.hidden = false;
    panel.scrollIntoView({ block: "start" });
  }

  $("channel-created-done").addEventListener("click", () => {
    $("channel-created-values").replaceChildren();  // the secrets leave the page for good
    $("channel-created").hidden = true;
  });

  // ---- editing -----------------------------------------------------------------------------

  const dialog = $("edit-channel");
  const editForm = dialog.querySelector("form");

  function edit(channel) {
    state.editing = channel;
    $("edit-channel-heading").textContent = `${T.edit_channel}${T.colon}${channel.name}`;
    editForm.elements.name.value = channel.name;
    editForm.elements.enabled.checked = channel.enabled;
    const type = state.types[channel.type];
    if (type) fillConfig(editForm, type, channel.config, true);
    else editForm.querySelector("[data-config]").replaceChildren(h("span", { class: "hint" }, T.type_unavailable));
    editForm.querySelector("[data-endpoints]").replaceChildren(...endpointBoxes(channel));
    openDialog(dialog);
    showFieldError(editForm, null);
  }

  onChannelSubmit(editForm, () => state.types[state.editing.type], async (data) => {
    const channel = state.editing;
    const type = state.types[channel.type];
    const change = { name: data.get("name").trim(), enabled: editForm.elements.enabled.checked };
    if (type) change.config = readConfig(editForm, type, true);
    await api("PATCH", `/admin/channels/${encodeURIComponent(channel.id)}`, change);
    dialog.close();
    notice(T.saved);
    await load();
  });

  async function start() {
    // Until the types are in, the new channel's form has no type nor settings and no script
    // to send it: its Create button waits, disabled (else a press, or Enter in the name box,
    // let the browser submit it itself and reload the page, the name lost).
    const create = $("new-channel").querySelector('button[type="submit"]');
    create.disabled = true;
    const types = (await api("GET", "/channel-types")).items;
    state.types = Object.fromEntries(types.map((t) => [t.name, t]));
    newChannelForm();
    create.disabled = false;
    await load();
    await loadDeadLetters();
  }

  start().catch((error) => notice(error.message || T.error, { error: true }));
})();

// A community's page: save its settings (PATCH, each section whole, so fields this form does
// not show keep their values) and post a message into it (a community broadcast, scheduled).
"use strict";

(() => {
  const { T, api } = window.KithDom;
  const data = document.getElementById("community-data");
  if (!data) return;
  let community = JSON.parse(data.textContent);
  const notice = document.getElementById("notice");
  const say = (text) => { notice.textContent = text; };

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

  function blame(form, error, box) {
    box.textContent = error.field ? `${error.field}: ${error.message}` : error.message;
    const [section, name] = (error.field || "").split(".");
    const control = form.querySelector(`[data-section="${section}"][data-name="${name}"]`);
    if (control) control.focus();
  }

  const settings = document.getElementById("settings");
  settings?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("settings-error");
    error.textContent = "";
    try {
      community = await api("PATCH", `/communities/${community.id}`, patchOf(settings));
      say(T.communities_saved);
    } catch (e) {
      blame(settings, e, error);
    }
  });

  const post = document.getElementById("post");
  post?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("post-error");
    error.textContent = "";
    const text = {};
    if (post.text_en.value.trim()) text.en = post.text_en.value;
    if (post.text_zh.value.trim()) text.zh = post.text_zh.value;
    const at = post.send_at.value ? new Date(post.send_at.value).toISOString() : null;
    const name = `${community.title || community.platform_chat_id} · ${new Date().toISOString().slice(0, 16)}`;
    try {
      const made = await api("POST", "/broadcasts", {
        name, community_ids: [community.id], message: { text }, send_at: at,
      });
      await api("POST", `/broadcasts/${made.id}/schedule`);
      say(T.communities_posted);
      window.location.reload();
    } catch (e) {
      error.textContent = e.field ? `${e.field}: ${e.message}` : e.message;
      const named = e.field && post.querySelector(`[name="${e.field.replace("message.text.", "text_")}"]`);
      (named || post.text_en).focus();
    }
  });
})();

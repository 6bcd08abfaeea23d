// The Community section of the inbox's group panel: for a group's conversation, the
// community the group is (members, welcome and moderation on or off, a link to its page).
// It follows the conversation the inbox shows (the `kith:conversation` event) and reads
// /app/api/communities. Group titles only ever reach the page through `h` (text nodes).
"use strict";

(() => {
  const { T, api, h, fill } = window.KithDom;
  const slot = document.getElementById("community");
  if (!slot) return;
  let shownFor = null;

  function describe(community) {
    const facts = [fill(T.group_community_members, { n: community.member_count })];
    if (community.welcome.enabled) facts.push(T.group_community_welcome);
    if (community.moderation.enabled) facts.push(T.group_community_moderation);
    const title = community.title || T.group_untitled;
    return h("div", { class: "community-facts" },
      h("p", {}, facts.join(" · ")),
      h("p", {}, h("a", { href: `/app/communities/${encodeURIComponent(community.id)}` },
        fill(T.group_community_open, { title }))));
  }

  async function show(conversation) {
    const group = conversation.group;
    if (!group || shownFor === conversation.id) return;
    shownFor = conversation.id;
    const query = new URLSearchParams({ channel_id: conversation.channel_id, chat_id: group.id });
    let page;
    try {
      page = await api("GET", "/communities?" + query.toString());
    } catch (error) {
      shownFor = null;
      document.getElementById("community").replaceWith(h("p", { id: "community" }, error.message));
      return;
    }
    if (shownFor !== conversation.id) return;
    const body = page.items.length ? describe(page.items[0]) : h("p", {}, T.group_community_none);
    document.getElementById("community").replaceWith(h("div", { id: "community" }, body));
  }

  document.addEventListener("kith:conversation", (event) => show(event.detail.conversation));
})();

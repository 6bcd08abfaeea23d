// The inbox by keyboard: the skip links at the top of the page, and the shortcuts that "?"
// lists (Chatwoot's Alt+J / Alt+K among them). A shortcut never fires while the agent types
// in a field (a text box, a menu, anything editable), so "r" and "/" type themselves there;
// Escape is the one key heard in the reply box, and leaves it for the conversation's title,
// from where every shortcut works again. The page's own controls do the work: a shortcut
// clicks a conversation in the list (as a tap would: on a phone Back still returns to the
// list) or moves focus; it never calls inbox.js.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const shown = (el) => Boolean(el) && el.getClientRects().length > 0;
  const typing = (el) => el instanceof Element
    && (el.matches("input, textarea, select") || el.isContentEditable);

  function focusOn(el) {
    if (!shown(el)) return false;
    el.focus();
    return document.activeElement === el;
  }

  const conversations = () => [...document.querySelectorAll("#conversations .conv")];

  // The conversation the agent is on: the one focused in the list, else the open one.
  function currentIndex(buttons) {
    const focused = buttons.indexOf(document.activeElement);
    if (focused !== -1) return focused;
    return buttons.findIndex((b) => b.getAttribute("aria-current") === "true");
  }

  // Alt+J (by 1) and Alt+K (by -1): open the next or previous conversation of the list as it
  // stands (its view, filters and sort); with none open, the first. At either end, nothing.
  function step(by) {
    const buttons = conversations();
    if (!buttons.length) return;
    const at = currentIndex(buttons);
    const next = at === -1 ? 0 : at + by;
    if (next < 0 || next >= buttons.length) return;
    const button = buttons[next];
    button.focus(); // kept when the list is redrawn; on a phone the title takes it
    button.click();
  }

  // The list: its open (or first) conversation; on a phone, while a conversation covers the
  // list, its Back button; with an empty list, the search.
  function toList() {
    const buttons = conversations();
    const at = buttons.findIndex((b) => b.getAttribute("aria-current") === "true");
    return focusOn(buttons[at === -1 ? 0 : at]) || focusOn($("back-to-list")) || focusOn($("search-q"));
  }

  // The reply box when a conversation is open (and may be answered), else the list.
  function toReply() {
    return focusOn($("reply")) || toList();
  }

  function wireSkipLinks() {
    for (const link of document.querySelectorAll(".skip-link[data-skip]")) {
      // No jump to the address's #fragment: on a phone it would be a step on the history.
      link.addEventListener("click", (e) => {
        e.preventDefault();
        if (link.dataset.skip === "reply") toReply();
        else toList();
      });
    }
  }

  // "?": the list of shortcuts in a modal <dialog>; Escape or Close shuts it and focus goes
  // back where it was.
  function wireDialog() {
    const dialog = $("keys-dialog");
    let opener = null;
    let openerConversation = null;
    const open = () => {
      if (dialog.open) return;
      opener = document.activeElement;
      openerConversation = opener && opener.matches("#conversations .conv") ? opener.dataset.id : null;
      dialog.showModal();
      $("keys-close").focus();
    };
    // The list is drawn anew on every change, maybe while the dialog was open: the opener
    // is then found again by its conversation.
    dialog.addEventListener("close", () => {
      const again = opener && !opener.isConnected && openerConversation
        ? document.querySelector(`#conversations .conv[data-id="${CSS.escape(openerConversation)}"]`)
        : opener;
      if (again && again !== document.body) again.focus();
      opener = null;
      openerConversation = null;
    });
    $("keys-open").hidden = false;
    $("keys-open").addEventListener("click", open);
    return open;
  }

  // Escape in the reply box: first it closes the canned responses' list, then it leaves.
  function leaveReply() {
    const canned = $("canned");
    if (canned && !canned.hidden) canned.hidden = true;
    else focusOn($("conv-title"));
  }

  function wireKeys(openHelp) {
    document.addEventListener("keydown", (e) => {
      if (e.defaultPrevented || e.isComposing || $("keys-dialog").open) return;
      if (e.key === "Escape") {
        if (e.target === $("reply") && !e.altKey && !e.ctrlKey && !e.metaKey) leaveReply();
        return;
      }
      if (typing(e.target) || e.ctrlKey || e.metaKey) return;
      let done = true;
      if (e.altKey) {
        // By the key's place as well (e.code): Option+J on a Mac types "∆".
        const letter = e.code === "KeyJ" || e.key === "j" ? "j" : e.code === "KeyK" || e.key === "k" ? "k" : "";
        if (letter && !e.shiftKey) step(letter === "j" ? 1 : -1);
        else done = false;
      } else if (e.key === "/") {
        const search = $("search-q");
        if (focusOn(search)) search.select();
      } else if (e.key === "r" && !e.shiftKey) {
        focusOn($("reply"));
      } else if (e.key === "?") {
        openHelp();
      } else {
        done = false;
      }
      if (done) e.preventDefault(); // "/" is Firefox's quick find; nothing else of the browser's
    });
  }

  wireSkipLinks();
  wireKeys(wireDialog());
})();

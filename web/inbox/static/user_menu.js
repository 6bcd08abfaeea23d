// The header's user menu (page_base.html): a disclosure button that shows the user's account
// link, language and sign-out (KithDom.disclosure: Enter or Space toggles it, Tab moves
// through its items, Escape or a click outside closes it). The arrow keys move through it
// too, as in a menu button's menu: ↓ or ↑ on the button opens it at its first or last item;
// Home and End, outside the search box, go to either end. The button stays disabled until
// this has run (a click would be lost).
"use strict";

(() => {
  const button = document.getElementById("user-menu-button");
  const panel = document.getElementById("user-menu");
  if (!button || !panel) return;
  const show = KithDom.disclosure(button, panel);

  // Its items, in the order Tab reaches them.
  const items = () => [...panel.querySelectorAll("a[href], button, input:not([type=hidden]), select")]
    .filter((el) => !el.disabled && el.getClientRects().length > 0);

  // The item `by` steps from the focused one (round from either end), or "first" / "last".
  // On the language select too: an arrow there would otherwise switch the language at once
  // (its own list still opens with Space or Alt+↓).
  function moveFocus(by) {
    const all = items();
    if (!all.length) return;
    const at = all.indexOf(document.activeElement);
    let next = by === "first" ? 0 : by === "last" ? all.length - 1 : at + by;
    if (at === -1 && typeof by === "number") next = by > 0 ? 0 : all.length - 1;
    all[(next + all.length) % all.length].focus();
  }

  const STEPS = { ArrowDown: 1, ArrowUp: -1, Home: "first", End: "last" };

  button.parentElement.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.isComposing) return;
    const by = STEPS[event.key];
    if (by === undefined) return;
    const onButton = event.target === button;
    if (onButton && typeof by !== "number") return;
    if (typeof by !== "number" && event.target.matches("input")) return; // the caret's keys
    if (!onButton && panel.hidden) return;
    event.preventDefault();
    if (onButton) {
      show(true);
      moveFocus(by > 0 ? "first" : "last");
    } else {
      moveFocus(by);
    }
  });
  button.disabled = false;  // it opens now
})();

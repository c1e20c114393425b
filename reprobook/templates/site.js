/* reprobook: the chapter list folds away behind a button on narrow screens.
   Without JavaScript the list is simply always shown. */
(function () {
  var button = document.querySelector(".menu-toggle");
  var sidebar = document.getElementById("sidebar");
  if (!button || !sidebar) return;
  var narrow = window.matchMedia("(max-width: 44rem)");
  function set(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    document.body.classList.toggle("sidebar-closed", !open);
  }
  button.hidden = false;
  set(!narrow.matches);
  button.addEventListener("click", function () {
    set(button.getAttribute("aria-expanded") !== "true");
  });
  narrow.addEventListener("change", function (e) { set(!e.matches); });
})();

// Inbox: Enter opens the first message; j/k move, Enter opens the highlighted one.
(function () {
  const links = Array.from(document.querySelectorAll("a.annotate-link"));
  let index = 0;
  function mark() { links.forEach((a, i) => a.closest("tr").classList.toggle("current", i === index)); }
  document.addEventListener("keydown", (event) => {
    if (!links.length || event.target.matches("input, select, textarea")) return;
    if (event.key === "j") { index = Math.min(links.length - 1, index + 1); mark(); }
    else if (event.key === "k") { index = Math.max(0, index - 1); mark(); }
    else if (event.key === "Enter") { window.location = links[index].href; }
  });
})();

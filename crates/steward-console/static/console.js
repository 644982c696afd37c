// Asks before a form marked data-confirm (Revoke) is sent. Everything works without it.
document.addEventListener("submit", (event) => {
  const question = event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});

// Import: a chosen .flopack file fills the text box the form sends (pasting works without it).
document.addEventListener("change", (event) => {
  const input = event.target;
  const target = input.getAttribute && input.getAttribute("data-fills");
  if (!target || !input.files || !input.files[0]) return;
  input.files[0].text().then((text) => {
    const box = document.getElementById(target);
    if (box) box.value = text;
  });
});

// Applications: a new app's page (the answer to its creation) takes the app's own address, so
// reloading it opens the app instead of creating another; its secret is not shown again.
const replaced = document.querySelector("[data-replace-url]");
if (replaced) history.replaceState(null, "", replaced.getAttribute("data-replace-url"));

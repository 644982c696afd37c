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

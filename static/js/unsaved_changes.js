// Warns before a page with unsaved answers is left. A form marked data-unsaved-warning counts as changed once an
// answer is picked or typed ("changed" when the page comes back after an error or a conflict: the answers shown
// are not saved yet) and as saved again when it is sent. While it is changed, following a link to another page
// asks first, and so does leaving in any other way (closing the tab, the back button, a typed address) through the
// browser's own question. Without JavaScript the form works the same, without the warning.

const QUESTION = "Your changes on this page have not been saved. Leave this page and lose them?";

const forms = [...document.querySelectorAll("form[data-unsaved-warning]")];
let changed = forms.some((form) => form.dataset.unsavedWarning === "changed");
// Set once the person has said they want to leave, so that the browser does not ask a second time.
let leaving = false;

for (const form of forms) {
  form.addEventListener("input", () => {
    changed = true;
  });
  form.addEventListener("change", () => {
    changed = true;
  });
  form.addEventListener("submit", () => {
    changed = false;
  });
}

function staysOnThisPage(link) {
  const url = new URL(link.href, window.location.href);
  const here = window.location;
  return url.origin === here.origin && url.pathname === here.pathname && url.search === here.search && url.hash !== "";
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!changed || !link || event.defaultPrevented) {
    return;
  }
  // Links within the page (the error summary, the skip link) and links opened in another tab lose nothing.
  const elsewhere = link.target === "_blank" || event.ctrlKey || event.metaKey || event.shiftKey;
  if (elsewhere || staysOnThisPage(link)) {
    return;
  }
  if (window.confirm(QUESTION)) {
    leaving = true;
  } else {
    event.preventDefault();
  }
});

window.addEventListener("beforeunload", (event) => {
  if (changed && !leaving) {
    event.preventDefault();
    // Older browsers show the question only when returnValue is set; none shows this text.
    event.returnValue = QUESTION;
  }
});

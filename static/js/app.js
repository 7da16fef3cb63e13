import { initAll } from "../dist/js/nhsuk-frontend.min.js";

// Set here rather than in an inline script, which the CSP forbids.
// Module scripts only run in browsers that NHS.UK frontend supports.
document.body.classList.add("js-enabled", "nhsuk-frontend-supported");

initAll();

// Console pages fit to print: a button with data-print opens the browser's
// print dialog (A4; console.css has the print rules).
document.querySelectorAll('[data-print]').forEach(function (b) {
  b.hidden = false;
  b.addEventListener('click', function () { window.print(); });
});

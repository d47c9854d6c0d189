// Review hotkeys: A accepts the first waiting annotation, R moves to its comment (Ctrl+Enter in
// the comment rejects), S skips the task. Keys typed into a field are the field's own.

const forms = [...document.querySelectorAll("[data-review-form]")];

function decide(form, decision) {
  const button = form.querySelector(`button[value="${decision}"]`);
  if (button) form.requestSubmit(button);
}

document.addEventListener("keydown", (event) => {
  const inField = event.target.closest("input, textarea, select, [contenteditable]");
  if (inField) {
    const form = event.target.closest("[data-review-form]");
    if (form && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      decide(form, "rejected");
    }
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const key = event.key.toLowerCase();
  const form = forms[0];
  if (key === "a" && form) {
    event.preventDefault();
    decide(form, "accepted");
  } else if (key === "r" && form) {
    event.preventDefault();
    form.querySelector("textarea")?.focus();
  } else if (key === "s") {
    const skip = document.querySelector("[data-review-skip]");
    if (skip) {
      event.preventDefault();
      skip.click();
    }
  }
});

// The keys work from here on (tests wait for this before pressing them).
document.body.dataset.reviewHotkeys = "on";
